// Throwaway probe (not committed): where the verdict ends with More unfolded.
import { startServer, launchBrowser, openLab } from './harness.mjs';
const server = await startServer();
const browser = await launchBrowser();
for (const theme of ['dark', 'presenter']) for (const [w, h] of [[1400, 900], [1280, 800]]) {
  const { page } = await openLab(browser, server.url, { width: w, height: h, folded: true });
  if (theme === 'presenter') await page.click('[data-action="presenter"]');
  await page.locator('h1').click();
  await page.keyboard.press('3');
  await page.locator('[data-timeline][data-state="done"] [data-verdict][data-refresh-calls]').waitFor();
  const m = () => page.evaluate(() => { const r = document.querySelector('[data-verdict]').getBoundingClientRect(); const c = document.querySelector('[data-controls]').getBoundingClientRect(); const rb = document.querySelector('.runbar').getBoundingClientRect(); const mh = document.querySelector('.masthead').getBoundingClientRect(); return `verdict ${Math.round(r.top)}..${Math.round(r.bottom)} controls ${Math.round(c.top)}..${Math.round(c.bottom)} runbar ${Math.round(rb.top)}..${Math.round(rb.bottom)} masthead ..${Math.round(mh.bottom)}`; });
  const folded = await m();
  await page.click('[data-action="advanced"]');
  const open = await m();
  if (process.argv[2]) await page.screenshot({ path: `${process.argv[2]}-${theme}-${w}.png` });
  console.log(theme, w, h, '\n  folded:', folded, '\n  more:  ', open);
  await page.close();
}
await browser.close();
server.stop?.(); process.exit(0);
