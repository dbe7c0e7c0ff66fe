// Closes the Vitest run with a cargo-style "test result:" line, which scripts/test-report
// counts like every other suite's.
import type { Reporter } from "vitest/reporters";

type Task = { type: string; result?: { state?: string }; tasks?: Task[] };

export default class Summary implements Reporter {
  onFinished(files: Task[] = [], errors: unknown[] = []) {
    let passed = 0;
    let failed = errors.length;
    const walk = (tasks: Task[]) => {
      for (const task of tasks) {
        if (task.type === "test") {
          if (task.result?.state === "pass") passed += 1;
          else if (task.result?.state === "fail") failed += 1;
        }
        if (task.tasks) walk(task.tasks);
      }
    };
    walk(files);
    console.log(`test result: ${failed ? "FAILED" : "ok"}. ${passed} passed; ${failed} failed;`);
  }
}
