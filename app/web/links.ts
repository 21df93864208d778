/**
 * Links from a job to the record it works on. A task stores the record as
 * `objectRef` ("description:12"); the module that has a page for that kind of record
 * registers how to link to it. Without one, the jobs page shows the reference as text.
 */
export interface RecordLink {
  /** Null: shown as text, no link. */
  href: string | null;
  label: string;
}

type LinkMaker = (id: string) => RecordLink;

const makers = new Map<string, LinkMaker>();

/** E.g. `registerRecordLink('description', (id) => ({ href: `/descriptions/${id}`, label: `Description ${id}` }))`. */
export function registerRecordLink(kind: string, make: LinkMaker): void {
  makers.set(kind, make);
}

export function recordLink(ref: string | null): RecordLink | null {
  if (!ref) return null;
  const i = ref.indexOf(':');
  const kind = i > 0 ? ref.slice(0, i) : ref;
  const id = i > 0 ? ref.slice(i + 1) : '';
  const make = makers.get(kind);
  if (make) return make(id);
  return { href: null, label: id ? `${kind} ${id}` : kind };
}
