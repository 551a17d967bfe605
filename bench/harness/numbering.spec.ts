import { expectedFor, Numbering, numberOf } from './numbering.mjs';

describe(expectedFor.name, () => {
  it('deals the remainder to the first users', () => {
    expect([0, 1, 2].map((user) => expectedFor(7, 3, user))).toEqual([3, 2, 2]);
    expect(expectedFor(6, 3, 2)).toBe(2);
  });

  it('numbers every record once, per user from 0 to what expectedFor says', () => {
    const total = 11;
    const users = 4;
    const perUser = new Map<number, number[]>();
    for (let index = 0; index < total; index++) {
      const { user, n } = numberOf(index, users);
      perUser.set(user, [...(perUser.get(user) ?? []), n]);
    }
    for (let user = 0; user < users; user++) {
      const numbers = perUser.get(user) ?? [];
      expect(numbers).toEqual(Array.from({ length: expectedFor(total, users, user) }, (_, n) => n));
    }
  });
});

describe(Numbering.name, () => {
  it('finds nothing wrong in a complete run in order', () => {
    const numbering = new Numbering();
    for (let n = 0; n < 5; n++) numbering.add(n);
    expect(numbering.received).toBe(5);
    expect(numbering.tally(5)).toEqual({ lost: 0, duplicated: 0, outOfOrder: 0, unexpected: 0 });
  });

  it('counts missing numbers as lost, repeats as duplicated, late ones as out of order', () => {
    const numbering = new Numbering();
    for (const n of [0, 2, 2, 1, 4, 4, 4]) numbering.add(n);
    expect(numbering.received).toBe(4);
    expect(numbering.tally(6)).toEqual({ lost: 2, duplicated: 3, outOfOrder: 1, unexpected: 0 });
  });

  it('counts numbers that were never sent as unexpected', () => {
    const numbering = new Numbering();
    for (const n of [0, 1, 7, -1]) numbering.add(n);
    expect(numbering.tally(2)).toEqual({ lost: 0, duplicated: 0, outOfOrder: 1, unexpected: 2 });
  });
});
