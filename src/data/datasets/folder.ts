/** `folder:PATH`: `train/` and `test/` sub-folders, one sub-folder per class of PNG/JPEG files inside each. */
import * as path from 'node:path';
import type { DatasetProvider } from '../dataset.js';
import { loadImageFolder } from '../folder.js';
import { checkFolder } from './idx.js';

export const folderDataset: DatasetProvider = {
  name: 'folder:',
  kind: 'generic',
  usage: 'folder:PATH',
  description: 'train/<class>/*.png|jpg and test/<class>/… (one sub-folder per class)',
  check: (folder, field) => checkFolder(path.resolve(folder), field),
  load: (folder, field) => loadImageFolder(path.resolve(folder), field),
};
