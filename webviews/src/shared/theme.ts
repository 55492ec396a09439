/** Colours from the VS Code theme (CSS variables on <html>), read in one place so charts match light and dark themes. */
export interface Theme {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  font: string;
  /** The theme's chart colour for a single series (charts.blue). */
  accent: string;
  /** A second series' colour (charts.orange): the current window against the reference in accent. */
  accent2: string;
  /** vscode-light, vscode-dark or vscode-high-contrast (the body class VS Code sets). */
  kind: string;
}

export function readTheme(): Theme {
  const css = getComputedStyle(document.documentElement);
  const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
  return {
    foreground: v('--vscode-foreground', '#cccccc'),
    muted: v('--vscode-descriptionForeground', '#999999'),
    grid: v('--vscode-panel-border', 'rgba(128,128,128,0.25)'),
    background: v('--vscode-editor-background', '#1e1e1e'),
    font: v('--vscode-font-family', 'sans-serif'),
    accent: v('--vscode-charts-blue', '#3794ff'),
    accent2: v('--vscode-charts-orange', '#d18616'),
    kind: ['vscode-high-contrast-light', 'vscode-high-contrast', 'vscode-light', 'vscode-dark'].find((c) => document.body.classList.contains(c)) ?? 'vscode-dark',
  };
}

/**
 * Calls `f` with the new theme whenever VS Code switches theme while the webview is open (it rewrites the CSS
 * variables on <html> and the body's class). Returns a function that stops watching.
 */
export function onThemeChange(f: (t: Theme) => void): () => void {
  let last = JSON.stringify(readTheme());
  const check = () => {
    const t = readTheme();
    const key = JSON.stringify(t);
    if (key === last) return;
    last = key;
    f(t);
  };
  const o = new MutationObserver(check);
  o.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
  o.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  return () => o.disconnect();
}

/** Distinct colours for any number of series: golden-angle hues, alternating lightness. */
export function seriesColor(i: number): string {
  const hue = Math.round((i * 137.508 + 200) % 360);
  const light = i % 2 === 0 ? 58 : 45;
  return `hsl(${hue}, 70%, ${light}%)`;
}
