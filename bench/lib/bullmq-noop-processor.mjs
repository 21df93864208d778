// BullMQ's sandboxed processor for the comparison: a file run in BullMQ's child processes.
export default async function noop() {
  return undefined;
}
