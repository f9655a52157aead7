/**
 * How every command's help reads. One configuration for all of them, so a default is written one
 * way everywhere (issue 12): `(default: 5s)`, never `(default 5s)`, `(default: "5")` or JSON.
 */
import type { Argument, HelpConfiguration, Option } from 'commander';

/**
 * HELP is every command's help configuration: the global flags shown with the command's own, and
 * each default and choice written as a user types it, `(default: 5s)`, `(default: 64KiB)`,
 * `(default: tcp://127.0.0.1:7)`, never quoted or as JSON. An option's `.default(value, text)`
 * gives the text (src/cli/options/common.ts words durations and sizes); otherwise the value is
 * shown as it is. `.default(undefined, 'the URL host')` states a default that is no value, and
 * leaves the option unset.
 */
export const HELP: HelpConfiguration = {
  showGlobalOptions: true,
  optionDescription: (option) => withExtras(option.description, extrasOf(option)),
  argumentDescription: (argument) => withExtras(argument.description, extrasOf(argument)),
};

/** extrasOf lists what the help adds after a description: choices, the default, a preset. */
function extrasOf(item: Option | Argument): string[] {
  const extras: string[] = [];
  if (item.argChoices) extras.push(`choices: ${item.argChoices.join(', ')}`);
  const isOption = 'flags' in item;
  // A boolean flag's default is for programs, not people (commander's rule too).
  const takesValue = !isOption || item.required || item.optional;
  const shown = item.defaultValueDescription ?? asTyped(item.defaultValue);
  if (takesValue && shown) extras.push(`default: ${shown}`);
  if (isOption && item.optional && item.presetArg !== undefined)
    extras.push(`${item.long ?? item.flags} alone: ${asTyped(item.presetArg)}`);
  return extras;
}

/** asTyped writes a value as a user would type it: unquoted, a list space-separated. */
function asTyped(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map(String).join(' ') : String(value);
}

function withExtras(description: string, extras: readonly string[]): string {
  if (extras.length === 0) return description;
  return description ? `${description} (${extras.join(', ')})` : `(${extras.join(', ')})`;
}
