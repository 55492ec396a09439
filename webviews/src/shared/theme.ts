/** Colours from the VS Code theme (CSS variables on <html>), read in one place so charts match light and dark themes. */
export interface Theme {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  font: string;
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
  };
}

/** Distinct colours for any number of series: golden-angle hues, alternating lightness. */
export function seriesColor(i: number): string {
  const hue = Math.round((i * 137.508 + 200) % 360);
  const light = i % 2 === 0 ? 58 : 45;
  return `hsl(${hue}, 70%, ${light}%)`;
}
