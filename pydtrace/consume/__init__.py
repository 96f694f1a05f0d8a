"""The consumer: records out of buffer snapshots, output, and the loop."""
