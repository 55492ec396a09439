import type * as Execa from 'execa';
import type Docker from 'dockerode';

let mod: Promise<typeof Execa> | undefined;
/**
 * execa 9 is ESM-only and so is a dependency of it (unicorn-magic has no `require` export). The bundle is ESM, but
 * tsx runs the tests as CommonJS, where a static import becomes require(): load it with import() in both.
 */
export const loadExeca = (): Promise<typeof Execa> => (mod ??= import('execa'));

/** dockerode (with ssh2) costs ~0.3 s of CPU to load: only what actually talks to Docker loads it. */
export async function newDocker(): Promise<Docker> {
  const mod = (await import('dockerode')) as unknown as { default?: typeof Docker } & typeof Docker;
  const Ctor = mod.default ?? mod;
  return new Ctor();
}
