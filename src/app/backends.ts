/** Compute backends as the commands see them: choose one, list what loads here. */
import { probeBackends, selectBackend, type BackendProbe } from '../backend/backends.js';

/** The backend named by the flag (or DALAB_BACKEND), else the best that loads; a UserError when a named one does not load. */
export async function chooseBackend(flag?: string): Promise<string> {
  return selectBackend(flag);
}

export interface BackendList {
  /** The one `dalab run` would use. */
  default: string | undefined;
  backends: BackendProbe[];
}

export async function listBackends(): Promise<BackendList> {
  const backends = await probeBackends();
  return { default: backends.find((p) => p.loaded)?.name, backends };
}
