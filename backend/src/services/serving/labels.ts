/** How many rows of one logged request got their label right, out of how many were labelled. */
export interface LabelMatch {
  right: number;
  total: number;
}

/**
 * The one definition of "prediction equals label", used by /metrics, the Monitoring charts and the A/B analysis.
 * A logged prediction is the request's array of row predictions; a label is one value per row, and a one-row
 * request may be labelled with the plain value (`1` for `[1]`). Values compare as text for scalars, so a label
 * "1" matches the class 1, and by their JSON for rows that are arrays. null when the label does not line up
 * with the rows (a different count), so it counts neither way.
 */
export function labelMatch(prediction: unknown, label: unknown): LabelMatch | null {
  if (label === null || label === undefined) return null;
  const preds = Array.isArray(prediction) ? prediction : [prediction];
  const labels = Array.isArray(label) && (preds.length !== 1 || label.length === 1) ? label : [label];
  if (labels.length !== preds.length || preds.length === 0) return null;
  let right = 0;
  for (let i = 0; i < preds.length; i++) if (sameValue(preds[i], labels[i])) right++;
  return { right, total: preds.length };
}

function sameValue(p: unknown, l: unknown): boolean {
  if ((typeof p === 'object' && p !== null) || (typeof l === 'object' && l !== null)) return JSON.stringify(p) === JSON.stringify(l);
  return String(p) === String(l);
}
