"""AgentDojo-format injection harness: mount a suite's environment, run owner tasks with attacks planted,
send every side-effecting tool call through the twin's policy, and count what would have run."""
