/**
 * Narration is where a demo tells its story: numbered steps in prose, explanations under them,
 * and the trace of every socket. The terminal prints it; `demo --web` sends the same calls to a
 * page, which draws the trace events as a sequence diagram. A demo never prints by itself.
 */
import { narrator, type Tracer } from '../../../index.js';

/** Lane is the side a traced socket belongs to: a lane of the page's diagram. */
export type Lane = 'client' | 'server';

/** Narration receives a demo's story as it happens. */
export interface Narration {
  /** step starts a numbered step; lines after the first continue it. */
  step(text: string): void;
  /** say explains, under the current step, one or more lines (hex dumps, tables). */
  say(text: string): void;
  /** conclude ends the story: a paragraph after the steps (the result, what to run next). */
  conclude(text: string): void;
  /** tracer returns the Tracer for the sockets on `lane`. */
  tracer(lane: Lane): Tracer;
}

/** terminalNarration writes a demo's story as plain text to `write` (stdout, for the CLI). */
export function terminalNarration(write: (text: string) => void): Narration {
  const indent = (text: string): string => text.replace(/\n(?=.)/g, '\n   ');
  return {
    step: (text) => write(`\n${indent(text)}\n`),
    say: (text) => write(`   ${indent(text)}\n`),
    conclude: (text) => write(`\n${text}\n`),
    tracer: (lane) => narrator(lane, write),
  };
}
