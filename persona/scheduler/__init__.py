"""Always on: one APScheduler per `persona serve`, a persistent job store, a run-claim lock, usage."""
