import type { Query, QuerySnapshot } from '@google-cloud/firestore';
import type { Logger } from '../log/logger.ts';
import type { IndexedQuery } from './firestore-layout.ts';

/** What an index must cover for a query: the part of IndexedQuery Firestore matches on. */
export type QueryShape = Pick<IndexedQuery, 'collectionGroup' | 'queryScope' | 'fields'>;

interface FieldFilterProto {
  field?: { fieldPath?: string };
  op?: string;
}
interface FilterProto {
  fieldFilter?: FieldFilterProto;
  compositeFilter?: { filters?: FilterProto[] };
  unaryFilter?: { field?: { fieldPath?: string } };
}
interface StructuredQueryProto {
  from?: Array<{ collectionId?: string; allDescendants?: boolean }>;
  where?: FilterProto;
  orderBy?: Array<{ field?: { fieldPath?: string }; direction?: string }>;
}

const EQUALITY = new Set(['EQUAL', 'IN']);
const ARRAY = new Set(['ARRAY_CONTAINS', 'ARRAY_CONTAINS_ANY']);

function fieldFilters(filter: FilterProto | undefined): FieldFilterProto[] {
  if (!filter) return [];
  if (filter.compositeFilter) return (filter.compositeFilter.filters ?? []).flatMap(fieldFilters);
  if (filter.fieldFilter) return [filter.fieldFilter];
  if (filter.unaryFilter) return [{ field: filter.unaryFilter.field ?? {}, op: 'EQUAL' }];
  return [];
}

/**
 * The index a query needs, read from the request the client library sends (its structured query):
 * equality filters first (ascending, in the order written), array-contains filters, then the sort
 * order, with an inequality field that is not sorted on appended ascending (Firestore adds that sort
 * itself). The trailing __name__ is left out: Firestore appends it to every index.
 */
export function queryShape(query: Query): QueryShape {
  // toProto is the client library's own serialisation of the query (what goes to the RunQuery RPC);
  // not in its typings, hence the cast. The library version is pinned; a test reads known queries.
  const proto = (query as unknown as { toProto(): { structuredQuery?: StructuredQueryProto } }).toProto();
  const structured = proto.structuredQuery ?? {};
  const from = structured.from?.[0] ?? {};
  const filters = fieldFilters(structured.where);
  const fields: Array<IndexedQuery['fields'][number]> = [];
  for (const filter of filters) {
    const fieldPath = filter.field?.fieldPath ?? '';
    if (EQUALITY.has(filter.op ?? '')) fields.push({ fieldPath, order: 'ASCENDING' });
    else if (ARRAY.has(filter.op ?? '')) fields.push({ fieldPath, arrayConfig: 'CONTAINS' });
  }
  const ordered = (structured.orderBy ?? []).map((order) => ({ fieldPath: order.field?.fieldPath ?? '', order: order.direction === 'DESCENDING' ? ('DESCENDING' as const) : ('ASCENDING' as const) }));
  for (const filter of filters) {
    const fieldPath = filter.field?.fieldPath ?? '';
    const inequality = !EQUALITY.has(filter.op ?? '') && !ARRAY.has(filter.op ?? '');
    if (inequality && !ordered.some((order) => order.fieldPath === fieldPath)) ordered.push({ fieldPath, order: 'ASCENDING' });
  }
  fields.push(...ordered);
  while (fields.at(-1)?.fieldPath === '__name__') fields.pop();
  return { collectionGroup: from.collectionId ?? '', queryScope: from.allDescendants ? 'COLLECTION_GROUP' : 'COLLECTION', fields };
}

/** Whether a declared query serves this shape. */
export function servedBy(shape: QueryShape, declared: QueryShape): boolean {
  return shape.collectionGroup === declared.collectionGroup && shape.queryScope === declared.queryScope && JSON.stringify(shape.fields) === JSON.stringify(declared.fields.map((field) => ({ ...field })));
}

/** The message of the log line every query of the management API writes (a test reads them). */
export const QUERY_LOG_MESSAGE = 'firestore query';

/**
 * Runs a query and logs its shape (DEBUG): the index it needs, for people reading a FAILED_PRECONDITION
 * "requires an index" error, and for the test that checks every query the API runs has its index.
 */
export async function runQuery(query: Query, logger: Logger): Promise<QuerySnapshot> {
  logger.log('DEBUG', QUERY_LOG_MESSAGE, { queryShape: JSON.stringify(queryShape(query)) });
  return query.get();
}
