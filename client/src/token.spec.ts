import { tokenExpiringAt } from './testing/fake-gateway.js';
import { jwtExpiry, rotationAt, tokenOf } from './token.js';

describe(jwtExpiry.name, () => {
  it('should read exp in milliseconds', () => {
    expect(jwtExpiry(tokenExpiringAt(1_700_000_000_000))).toBe(1_700_000_000_000);
  });

  it.each(['opaque-token', 'a.b.c', 'a..c', `x.${btoa('{"exp":"soon"}')}.y`])(
    'should find none in %p',
    (token) => {
      expect(jwtExpiry(token)).toBeUndefined();
    },
  );
});

describe(tokenOf.name, () => {
  it('should prefer the expiry the application gives', () => {
    expect(tokenOf({ token: tokenExpiringAt(9_000_000), expiresAt: 5000 }, 0)).toEqual({
      value: tokenExpiringAt(9_000_000),
      expiresAt: 5000,
      receivedAt: 0,
    });
  });
});

describe(rotationAt.name, () => {
  it('should rotate 30 s before expiry for a long-lived token', () => {
    expect(rotationAt({ value: 't', receivedAt: 0, expiresAt: 3_600_000 })).toBe(3_570_000);
  });

  it('should rotate after three quarters of a short life', () => {
    expect(rotationAt({ value: 't', receivedAt: 10_000, expiresAt: 14_000 })).toBe(13_000);
  });

  it('should not rotate a token of unknown life', () => {
    expect(rotationAt({ value: 't', receivedAt: 0, expiresAt: undefined })).toBeUndefined();
  });
});
