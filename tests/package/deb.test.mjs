// The .deb as an installer sees it, and its CLI run from outside the checkout.
//
//   REFRESH_RACE_DEB=dist/debug/refresh-race_0.2.0_amd64.deb \
//   REFRESH_RACE_PACKAGE_ROOT=/tmp/root \
//   node --test tests/package/deb.test.mjs
//
// REFRESH_RACE_PACKAGE_ROOT is where the .deb was unpacked (`dpkg-deb -x`).
// scripts/test.sh builds a debug .deb, unpacks it, hides the checkout and runs
// this together with the desktop tests against the packaged app. The version
// expected is $REFRESH_RACE_EXPECT_VERSION, else the workspace's.

import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { existsSync, readFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";

import { expectedVersion } from "../desktop/harness.mjs";

const deb = process.env.REFRESH_RACE_DEB;
const root = process.env.REFRESH_RACE_PACKAGE_ROOT;
const skip = (!deb || !root) && "set REFRESH_RACE_DEB and REFRESH_RACE_PACKAGE_ROOT (scripts/test.sh does)";

function field(name) {
  return execFileSync("dpkg-deb", ["--field", deb, name], { encoding: "utf8" }).trim();
}

test("the control file names the package, its version, licence home and dependencies", { skip }, () => {
  assert.equal(field("Package"), "refresh-race");
  assert.equal(field("Version"), expectedVersion(), "the workspace's version (tauri.conf.json has none)");
  assert.equal(field("Architecture"), execFileSync("dpkg", ["--print-architecture"], { encoding: "utf8" }).trim());
  assert.equal(field("Section"), "education");
  assert.equal(field("Maintainer"), "Refresh Race contributors");
  assert.match(field("Description"), /^A desktop lab that shows the JWT refresh race live/);
  const depends = field("Depends").split(/,\s*/);
  assert.ok(depends.includes("libwebkit2gtk-4.1-0") && depends.includes("libgtk-3-0"), `Depends: ${depends}`);
  assert.equal(field("Recommends"), "fonts-dejavu-core", "the PNG export draws its text with DejaVu");
});

test("it installs the app, the CLI, a menu entry, icons, the licence and the changelog", { skip }, () => {
  for (const bin of ["usr/bin/refresh-race-desktop", "usr/bin/refresh-race"]) {
    const file = path.join(root, bin);
    assert.ok(existsSync(file), `${bin} is in the package`);
    assert.ok(statSync(file).mode & 0o111, `${bin} is executable`);
  }
  const entry = readFileSync(path.join(root, "usr/share/applications/Refresh Race.desktop"), "utf8");
  const keys = Object.fromEntries(entry.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  assert.equal(keys.Name, "Refresh Race");
  assert.equal(keys.Exec, "refresh-race-desktop %f", "a file manager hands it the file it opens");
  assert.equal(keys.MimeType, "application/x-refresh-race-run;");
  assert.equal(keys.Icon, "refresh-race-desktop");
  assert.equal(keys.Type, "Application");
  assert.equal(keys.Categories, "Education;Development;");
  assert.ok(keys.Comment, "a Comment for menus and launchers");
  for (const doc of ["copyright", "CHANGELOG.md"]) {
    assert.ok(existsSync(path.join(root, "usr/share/doc/refresh-race", doc)), `/usr/share/doc/refresh-race/${doc}`);
  }
  assert.match(readFileSync(path.join(root, "usr/share/doc/refresh-race/copyright"), "utf8"), /^MIT License/);
  // The saved run's file type, which the menu entry's MimeType names.
  const mime = readFileSync(path.join(root, "usr/share/mime/packages/refresh-race.xml"), "utf8");
  assert.match(mime, /<mime-type type="application\/x-refresh-race-run">/);
  assert.match(mime, /<glob pattern="\*\.run\.json" weight="60"\/>/);
  for (const size of [32, 64, 128, 256, 512]) {
    const icon = path.join(root, `usr/share/icons/hicolor/${size}x${size}/apps/refresh-race-desktop.png`);
    assert.ok(existsSync(icon), `a ${size}x${size} icon`);
    // PNG header: width and height are big-endian at bytes 16 and 20.
    const png = readFileSync(icon);
    assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [size, size], `${icon} is ${size}x${size}`);
  }
});

test("the packaged CLI prints the package's version", { skip }, () => {
  const out = execFileSync(path.join(root, "usr/bin/refresh-race"), ["--version"], { encoding: "utf8" });
  assert.equal(out, `refresh-race ${expectedVersion()}\n`);
});

test("the packaged CLI serves the lab's page from a folder that is not the checkout", { skip, timeout: 30_000 }, async () => {
  const cwd = mkdtempSync(path.join(os.tmpdir(), "rr-package-serve-"));
  const env = { ...process.env };
  delete env.REFRESH_RACE_UI_DIR;
  const child = spawn(path.join(root, "usr/bin/refresh-race"), ["serve", "--port", "0"], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  try {
    const base = await new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match) resolve(match[1]);
      });
      child.once("exit", (code) => reject(new Error(`serve exited (code ${code}): ${stderr}`)));
    });
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>Refresh Race<\/title>/);
    const options = await (await fetch(`${base}/lab/options`)).json();
    assert.equal(options.version, expectedVersion());
  } finally {
    child.kill("SIGTERM");
    rmSync(cwd, { recursive: true, force: true });
  }
});
