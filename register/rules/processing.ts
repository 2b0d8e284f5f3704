// Processor role: Art. 30(2) record needs the controllers served and the processing done for them.
import type { RuleContext } from './context.ts';

export function checkProcessing(ctx: RuleContext): void {
  const { r, error, warn, ref, keys, used } = ctx;
  const isProcessor = r.controller.roles.includes('processor');
  if (isProcessor && !r.processing) {
    error(
      ['controller', 'roles'],
      'a business acting as processor must describe that processing under "processing:" (controllers and activities) for its Art. 30(2) record',
    );
  }
  if (!isProcessor && r.processing) warn(['processing'], '"processing" is only used when controller.roles includes processor');
  if (r.processing) {
    const controllers = Object.keys(r.processing.controllers);
    for (const [ak, a] of Object.entries(r.processing.activities)) {
      const at = ['processing', 'activities', ak];
      a.controllers.forEach((x, i) => {
        ref([...at, 'controllers', i], x, controllers, 'controller');
      });
      a.data.forEach((x, i) => {
        ref([...at, 'data', i], x, keys.data, 'data category', used.data);
      });
      a.subjects.forEach((x, i) => {
        ref([...at, 'subjects', i], x, keys.subjects, 'subject kind', used.subjects);
      });
      a.recipients.forEach((x, i) => {
        ref([...at, 'recipients', i], x, keys.recipients, 'recipient', used.recipients);
      });
    }
  }
}
