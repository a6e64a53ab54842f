// Run in the page by tests/studio: every form control has a label, every button and link a
// name, text contrast is at least 4.5:1 against its effective background, nothing scrolls sideways.
const lum = (rgb) => { const c = rgb.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; };
const parse = (color) => (color.match(/[\d.]+/g) || []).map(Number);
const background = (el) => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
  if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); } return [255, 255, 255]; };
const visible = (el) => el.offsetParent !== null || getComputedStyle(el).position === 'fixed';
const problems = [];
for (const el of document.querySelectorAll('input, select, textarea')) {
  if (!visible(el) && el.type !== 'file') continue;
  if (el.type === 'hidden') continue;
  if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) problems.push(`unlabelled ${el.outerHTML.slice(0, 80)}`);
}
for (const el of document.querySelectorAll('button, a[href]')) {
  if (visible(el) && !el.textContent.trim() && !el.getAttribute('aria-label')) problems.push(`nameless ${el.outerHTML.slice(0, 80)}`);
}
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const el = node.parentElement;
  if (!node.textContent.trim() || !el || !visible(el) || el.closest('.visually-hidden, svg, option, noscript')) continue;
  const style = getComputedStyle(el);
  if (parseFloat(style.opacity) < 1 || el.closest('button:disabled')) continue;
  const [a, b] = [lum(parse(style.color)), lum(background(el))];
  const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} "${node.textContent.trim().slice(0, 40)}"`);
}
// clientWidth, not innerWidth: a phone's layout viewport widens to fit content that overflows.
const width = document.documentElement.clientWidth;
if (document.documentElement.scrollWidth > width) {
  problems.push(`scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
}
return problems;
