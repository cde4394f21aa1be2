/**
 * Deterministic synthetic memories with a varied vocabulary, so the index sees realistic spread
 * rather than near-duplicates. A seeded PRNG keeps runs comparable.
 */
const subjects = [
  'My sister',
  'The dentist',
  'Our landlord',
  'My manager',
  'The neighbour',
  'Grandma',
  'The vet',
  'My running coach',
  'The plumber',
  'A colleague from Lisbon',
  'My best friend',
  'The kindergarten teacher',
  'Our accountant',
  'The bike mechanic',
  'My cousin',
];
const verbs = [
  'recommended',
  'mentioned',
  'cancelled',
  'scheduled',
  'complained about',
  'asked me about',
  'forgot',
  'booked',
  'paid for',
  'wrote down',
  'praised',
  'returned',
  'borrowed',
  'ordered',
  'reviewed',
];
export const objects = [
  'the sourdough recipe',
  'a hiking trail near the lake',
  'the quarterly tax filing',
  'a jazz concert on Saturday',
  'the broken dishwasher',
  'a book about Roman history',
  'the flu vaccination',
  'a vegan ramen place',
  'the electricity bill',
  'a chess opening',
  'the spare house key',
  'a birthday present for Tom',
  'the marathon training plan',
  'a leaking kitchen tap',
  'the passport renewal',
  'a podcast on astronomy',
  'the car insurance',
  'a pottery class',
  'the garden fence',
  'a trip to Kyoto',
];
const tails = [
  'last Tuesday',
  'before the holidays',
  'during lunch',
  'while it was raining',
  'at the farmers market',
  'on the phone',
  'by email',
  'after the meeting',
  'in a hurry',
  'with a big smile',
  'for the second time',
  'next to the station',
  'around midnight',
  'at the gym',
  'over coffee',
];
const extras = [
  'It cost about 40 euros.',
  'Remember to follow up.',
  'The code is 4711.',
  'Bring an umbrella next time.',
  'It was surprisingly good.',
  'Needs a second opinion.',
  'Ask again in March.',
  'Do not tell Anna.',
  'The address is on the fridge.',
  'Worth trying again.',
  '',
];

export function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(r: () => number, xs: T[]) => xs[Math.floor(r() * xs.length)]!;

export function memoryText(r: () => number, i: number): string {
  return `${pick(r, subjects)} ${pick(r, verbs)} ${pick(r, objects)} ${pick(r, tails)}. ${pick(r, extras)} (#${i})`.trim();
}

/** One in this many of the scale dataset's memories carries the tag `rare`. */
export const RARE_TAG_EVERY = 50;

/** The scale dataset's i-th memory: a quarter public, one in RARE_TAG_EVERY tagged `rare`. */
export function scaleMemory(text: string, i: number) {
  return {
    text,
    permission: i % 4 === 0 ? 'public' : 'private',
    tags: i % RARE_TAG_EVERY === 0 ? ['rare'] : [],
  };
}

export function queryText(r: () => number, i: number): string {
  const templates = [
    () => `what did ${pick(r, subjects).toLowerCase()} say about ${pick(r, objects)}?`,
    () => `anything about ${pick(r, objects)} ${pick(r, tails)}`,
    () => `who ${pick(r, verbs)} ${pick(r, objects)}`,
    () => `remind me about ${pick(r, objects)}`,
  ];
  return `${pick(r, templates)()} [q${i}]`;
}
