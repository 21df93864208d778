/**
 * The words of the archival domain (DESIGN.md §4), after ISAD(G) as AtoM keeps them.
 *
 * - description: one unit of description (a fonds, a series, a file, an item...), a row
 *   of `descriptions`. Descriptions form a tree: each has at most one parent, and its
 *   children are ordered by `position`.
 * - top-level description: one without a parent (AtoM's "collection root").
 * - slug: the unique, URL-safe name of a description, made from its title.
 * - publication status: `draft` (staff only) or `published` (public finding aids).
 * - legacy id + source name: AtoM's keymap, which row of which import file made the
 *   description (`parentId` in a CSV refers to a `legacyId` of the same source).
 * - finding aid: a PDF or RTF document of a top-level description and its hierarchy.
 */

export const PUBLICATION_STATUSES = ['draft', 'published'] as const;
export type PublicationStatus = (typeof PUBLICATION_STATUSES)[number];

/** `generating` shows as "In progress". */
export const FINDING_AID_STATUSES = ['generating', 'generated', 'error'] as const;
export type FindingAidStatus = (typeof FINDING_AID_STATUSES)[number];

export const FINDING_AID_LABELS: Record<FindingAidStatus, string> = {
  generating: 'In progress',
  generated: 'Generated',
  error: 'Error',
};

/** The fields an import or a form may set; every one may be absent. */
export interface DescriptionFields {
  identifier: string | null;
  title: string | null;
  levelOfDescription: string | null;
  extentAndMedium: string | null;
  scopeAndContent: string | null;
  repository: string | null;
  publicationStatus: PublicationStatus;
  culture: string;
  /**
   * The events (creation, accumulation...), in order: AtoM's `event*` columns, whose n-th
   * `|` items describe the n-th event, kept together as one object per event.
   */
  events: DescriptionEvent[];
  /** AtoM's `alternativeIdentifiers` with their `alternativeIdentifierLabels`, pair by pair. */
  alternativeIdentifiers: AlternativeIdentifier[];
  /** The repeatable fields (notes, access points, languages; see LIST_COLUMNS), by column name. */
  lists: Record<string, string[]>;
  /** The other single-valued ISAD and RAD columns of AtoM's CSV, by column name, as written. */
  extra: Record<string, string>;
}

/**
 * One event of a description: a cell of each `event*` column. A property is '' when its
 * column had no item for this event (or AtoM's `NULL`).
 */
export interface DescriptionEvent {
  /** `eventTypes`: Creation, Accumulation... */
  type: string;
  /** `eventDates`: the dates as displayed. */
  date: string;
  /** `eventStartDates`, `eventEndDates`: ISO-like dates. */
  startDate: string;
  endDate: string;
  /** `eventActors`: the creator or other actor. */
  actor: string;
  /** `eventActorHistories`: the actor's biographical or administrative history. */
  actorHistory: string;
  /** `eventPlaces`, `eventDescriptions` (newer AtoM versions). */
  place: string;
  description: string;
}

/** An alternative identifier and its label (both '' when absent). */
export interface AlternativeIdentifier {
  identifier: string;
  label: string;
}

export interface Description extends DescriptionFields {
  id: number;
  parentId: number | null;
  position: number;
  legacyId: string | null;
  sourceName: string | null;
  slug: string;
  findingAidStatus: FindingAidStatus | null;
  findingAidJobId: number | null;
  /** The result file of the finding-aid job (under the results folder). */
  findingAidFile: string | null;
  findingAidName: string | null;
  findingAidError: string | null;
  findingAidAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** A description in a tree walk: its depth under the walk's root (the root is 0). */
export interface TreeNode {
  description: Description;
  depth: number;
}
