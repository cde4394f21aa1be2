/**
 * A small labelled retrieval set for the offline model: things an assistant would remember about
 * one person, and questions that target them in other words (paraphrases, not keyword copies).
 * Distractors share a word with some query but not its meaning; no query targets them.
 * Written by hand for this test, before the model was run on it; do not tune it to the model.
 */
export interface QualityMemory {
  id: string;
  text: string;
}

export interface QualityQuery {
  text: string;
  /** The id of the one memory that answers it. */
  target: string;
  /** The distractor that shares a word with this query, if any. */
  lure?: string;
}

export const memories: QualityMemory[] = [
  { id: 'allergy', text: 'I am allergic to peanuts and carry an EpiPen everywhere I go.' },
  { id: 'sister-birthday', text: "My sister Clara's birthday is on the 14th of March." },
  { id: 'car', text: 'I drive a blue 2015 Toyota Corolla.' },
  { id: 'coffee', text: 'I take my coffee black, with no milk and no sugar.' },
  { id: 'job', text: "I work as a nurse in the emergency department at St. Mary's hospital." },
  { id: 'marathon', text: "I'm training for the Berlin marathon in September." },
  { id: 'pet', text: 'Our golden retriever Biscuit is terrified of thunderstorms.' },
  { id: 'diet', text: 'I stopped eating meat and fish three years ago.' },
  { id: 'language', text: "I'm learning Japanese with a tutor every Tuesday evening." },
  { id: 'flight', text: 'My flight to Lisbon leaves on Friday at 7:40 in the morning.' },
  {
    id: 'dentist',
    text: 'I have an appointment at the dentist next Thursday at 3 pm to get a cavity filled.',
  },
  { id: 'wifi', text: 'The home Wi-Fi password is written on a sticker under the router.' },
  { id: 'music', text: "Radiohead is my favourite group; I've seen them live twice." },
  { id: 'mother', text: 'Mum lives in Edinburgh and likes to be called on Sunday afternoons.' },
  { id: 'savings', text: "I'm saving 500 euros a month towards a deposit on a flat." },
  { id: 'caffeine', text: "If I drink caffeine after 2 pm I can't fall asleep at night." },
  { id: 'book', text: "I'm halfway through 'The Name of the Wind' by Patrick Rothfuss." },
  { id: 'plant', text: 'The fern in the living room needs watering twice a week.' },
  { id: 'climbing', text: 'I go bouldering with Jonas every Wednesday night.' },
  { id: 'medication', text: 'I take 50 mg of levothyroxine for my thyroid before breakfast.' },
  { id: 'son-school', text: 'My son Leo starts first grade this autumn.' },
  { id: 'holiday', text: "We're planning two weeks in Iceland next summer to see the glaciers." },
  { id: 'cooking', text: 'My go-to dinner is a spicy Thai green curry with tofu.' },
  { id: 'phone-repair', text: 'My mobile screen cracked and the repair shop quoted 120 euros.' },
  { id: 'horror', text: 'I really dislike horror films; they give me nightmares.' },
  { id: 'moving', text: "We're moving to a bigger apartment in Hamburg on the 1st of October." },
  { id: 'insurance', text: 'The car insurance renewal is due at the end of November.' },
  { id: 'football', text: 'I support Liverpool FC and never miss a match.' },
  { id: 'manager', text: 'My manager Priya prefers written updates to meetings.' },
  { id: 'cello', text: 'I play the cello in a community orchestra.' },
  // Distractors: lexical overlap with a query, different meaning.
  { id: 'lure-coffee-table', text: 'The coffee table in the living room is an antique from my grandmother.' },
  { id: 'lure-neighbour-dog', text: "The neighbour's dog barks all night long." },
  { id: 'lure-planes-documentary', text: 'I watched a documentary about how planes are built.' },
  { id: 'lure-school-reunion', text: 'I went back to my old school for a reunion last month.' },
  { id: 'lure-phone-bank', text: 'I need to phone the bank about a new credit card.' },
  { id: 'lure-internet-weather', text: 'The internet says it will rain all weekend.' },
  { id: 'lure-morning-bakery', text: 'Every morning I walk to the bakery for fresh bread.' },
  { id: 'lure-rubber-band', text: 'I wear a rubber band on my wrist as a reminder to drink water.' },
];

export const queries: QualityQuery[] = [
  { text: 'Is there any food I react badly to?', target: 'allergy' },
  { text: 'When should I send my sibling a card?', target: 'sister-birthday' },
  { text: 'What kind of vehicle do I own?', target: 'car' },
  { text: 'How do I like my morning cup of coffee made?', target: 'coffee', lure: 'lure-coffee-table' },
  { text: 'What do I do for a living?', target: 'job' },
  { text: 'Which long-distance race am I preparing for?', target: 'marathon' },
  { text: 'What breed is our dog?', target: 'pet', lure: 'lure-neighbour-dog' },
  { text: 'Am I a vegetarian?', target: 'diet' },
  { text: 'What foreign language am I studying?', target: 'language' },
  { text: 'When does my plane to Portugal depart?', target: 'flight', lure: 'lure-planes-documentary' },
  { text: 'When is my tooth getting fixed?', target: 'dentist' },
  {
    text: 'Where can I find the internet login for our network?',
    target: 'wifi',
    lure: 'lure-internet-weather',
  },
  { text: 'Which band do I love listening to most?', target: 'music', lure: 'lure-rubber-band' },
  { text: 'When is the best time to ring my mother?', target: 'mother' },
  { text: 'How much money am I putting aside to buy an apartment?', target: 'savings' },
  { text: 'What keeps me awake at night?', target: 'caffeine' },
  { text: 'What novel am I currently reading?', target: 'book' },
  { text: 'How often does the houseplant need to be watered?', target: 'plant' },
  { text: 'Who is my climbing partner?', target: 'climbing' },
  { text: 'What medicine do I take every morning?', target: 'medication', lure: 'lure-morning-bakery' },
  { text: 'When does my boy start school?', target: 'son-school', lure: 'lure-school-reunion' },
  { text: 'Where are we going on vacation next year?', target: 'holiday' },
  { text: 'What meal do I cook most often?', target: 'cooking' },
  { text: 'How much will it cost to fix my phone?', target: 'phone-repair', lure: 'lure-phone-bank' },
  { text: 'Which movie genre should we avoid on date night?', target: 'horror' },
  { text: 'When are we relocating to the new place?', target: 'moving' },
  { text: 'When do I have to renew the policy for my vehicle?', target: 'insurance' },
  { text: 'Which soccer team do I cheer for?', target: 'football' },
  { text: 'How does my boss want to be kept informed?', target: 'manager' },
  { text: 'What musical instrument do I play?', target: 'cello' },
];
