import { tokenExpiringAt } from './testing/fake-gateway.js';
import { rotationDelay, tokenOf } from './token.js';

describe(tokenOf.name, () => {
  it('should read exp in milliseconds and the user from iss and sub', () => {
    expect(tokenOf(tokenExpiringAt(1_700_000_000_000, 'alice'))).toEqual({
      value: tokenExpiringAt(1_700_000_000_000, 'alice'),
      expiresAt: 1_700_000_000_000,
      user: ' alice',
    });
  });

  it('should read a sub that is not ASCII', () => {
    expect(tokenOf(tokenExpiringAt(0, 'zoë')).user).toBe(' zoë');
  });

  it.each(['opaque-token', 'a.b.c', 'a..c', `x.${btoa('{"exp":"soon","sub":7}')}.y`, `x.${btoa('null')}.y`])(
    'should find neither expiry nor user in %p',
    (token) => {
      expect(tokenOf(token)).toEqual({ value: token, expiresAt: undefined, user: undefined });
    },
  );

  it('should prefer the expiry the application gives', () => {
    expect(tokenOf({ token: tokenExpiringAt(9_000_000), expiresAt: 5000 }).expiresAt).toBe(5000);
  });
});

describe(rotationDelay.name, () => {
  const token = (expiresAt: number | undefined) => ({ value: 't', user: undefined, expiresAt });

  it('should rotate 30 s before expiry for a long-lived token', () => {
    expect(rotationDelay(token(3_600_000), 0)).toBe(3_570_000);
  });

  it('should rotate after three quarters of a short life', () => {
    expect(rotationDelay(token(30_000), 10_000)).toBe(15_000);
  });

  it('should wait a while even for a token that looks expired (no reconnection loop)', () => {
    expect(rotationDelay(token(10_000), 60_000)).toBe(5000);
  });

  it('should not rotate a token of unknown life', () => {
    expect(rotationDelay(token(undefined), 0)).toBeUndefined();
  });
});
