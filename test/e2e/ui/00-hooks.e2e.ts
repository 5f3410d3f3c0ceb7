// Root hooks of the UI suite: a screenshot of the workbench whenever a test fails, named after the test.
import { screenshot, workbench } from './workbench';

afterEach(async function () {
  const test = this.currentTest;
  if (test?.state !== 'failed') return;
  const { page } = await workbench();
  const name = `ui-failed-${test.fullTitle().replace(/[^a-z0-9]+/gi, '-').toLowerCase().slice(0, 80)}`;
  await screenshot(page, name).catch(() => undefined);
});
