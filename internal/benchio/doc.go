// Package benchio reads what this process has asked the disk to take, for
// benchmarks that report writes per operation: on a shared machine those
// counts are steadier than the time, and they are what a commit waits for.
// It knows nothing of the store or the router.
package benchio
