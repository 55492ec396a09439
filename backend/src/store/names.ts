import { randomInt } from 'node:crypto';

const ADJECTIVES = ['bold', 'calm', 'eager', 'fancy', 'gentle', 'brave', 'clever', 'bright', 'swift', 'quiet', 'merry', 'proud', 'lucky', 'witty', 'sunny', 'crisp', 'nimble', 'honest', 'keen', 'vivid'];
const NOUNS = ['cat', 'owl', 'fox', 'hare', 'wolf', 'lynx', 'seal', 'crab', 'moth', 'wren', 'toad', 'yak', 'eel', 'ram', 'doe', 'bee', 'gnu', 'ant', 'jay', 'koi'];

/** "adjective-noun-NNN", like MLflow's generated run names. */
export function randomRunName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;
}
