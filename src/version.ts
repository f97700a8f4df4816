import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const DALAB_VERSION: string = (require('../../package.json') as { version: string }).version;
