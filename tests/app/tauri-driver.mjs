// Starts tauri-driver on two free local ports (its own and WebKitWebDriver's), so runs side
// by side do not collide, and waits until it listens. Shared by e2e.mjs and measure.mjs.
import { spawn } from "node:child_process";
import net from "node:net";

function freePort() {
  return new Promise((done, fail) => {
    const probe = net.createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((done, fail) => {
    const attempt = () => {
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.end();
        done();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) fail(new Error(`tauri-driver did not listen on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/**
 * Spawns tauri-driver (TAURI_DRIVER overrides the command) with `options` for spawn, and
 * resolves to `{ process, url }` once it listens; the caller kills `process`.
 */
export async function startTauriDriver(options) {
  const [port, nativePort] = [await freePort(), await freePort()];
  const child = spawn(process.env.TAURI_DRIVER ?? "tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], options);
  try {
    await waitForPort(port, 15000);
  } catch (error) {
    child.kill();
    throw error;
  }
  return { process: child, url: `http://127.0.0.1:${port}/` };
}
