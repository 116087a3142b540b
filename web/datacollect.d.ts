// Type declarations for window.datacollect, the DataCollect JavaScript API.
// Every method returns a Promise; failures reject with a DataCollectError.

export type SyncLevel = 'LOCAL' | 'SYNCED' | 'EXTERNAL';
export type EntityType = 'individual' | 'group';

/** Stable error codes carried by DataCollectError.code. */
export type ErrorCode =
  | 'EINVALID'  // malformed input or an event that breaks a rule; nothing was written
  | 'ENOTFOUND' // the entity (or member) referred to does not exist
  | 'EEXISTS'   // a create met an existing guid, or a guid was reused with other content
  | 'ECONFLICT' // a concurrent writer kept changing the same data; retry
  | 'EQUOTA'    // the browser's storage quota is exhausted; nothing was written
  | 'ESTORE'    // IndexedDB failed; nothing was written
  | 'ECLOSED'   // init() was not called, or close() was
  | 'ECRYPTO'   // wrong passphrase, locked (lock()), or ciphertext that fails authentication (tampered); nothing read or written
  | 'EUNAUTHORIZED' // not logged in, the session expired, or wrong credentials
  | 'EFORBIDDEN'    // the user's role may not do this
  | 'ENETWORK'      // the server could not be reached (offline), or its answer was lost
  | 'ETIMEOUT'      // the server or the network took too long
  | 'ETOOLARGE'     // a request exceeded the server's limits
  | 'EVERSION'      // the server speaks another major protocol version: update the app
  | 'ERATELIMIT'    // too many attempts; retry later
  | 'ELOAD'     // the wasm module failed to load (ready rejects)
  | 'EINTERNAL';// a bug: please report it

export interface DataCollectError extends Error {
  name: 'DataCollectError';
  code: ErrorCode;
}

/** A JSON-like value stored in data fields. */
export type Value = null | boolean | number | string | Value[] | { [key: string]: Value };

/** A member of a group in create-group / add-member data. A bare {guid} links an existing entity. */
export interface MemberInput {
  guid?: string;
  type?: EntityType;
  /** A sub-group's own members. */
  members?: MemberInput[];
  [field: string]: Value | MemberInput[] | undefined;
}

/** A form submission. */
export interface FormInput {
  /** Built-in: create-individual, update-individual, create-group, update-group,
   *  add-member, remove-member, delete-entity, resolve-duplicate, resolve-conflict; or a custom type registered from Go. */
  type: string;
  /** The entity; generated for create-* types when omitted. */
  entityGuid?: string;
  /** The form's content. Updates carry only the changed fields; null removes a field.
   *  create-group/add-member: `members: MemberInput[]`; remove-member: `memberId`;
   *  resolve-duplicate: `duplicateGuid` and `action: 'merge' | 'keep'`. */
  data?: { [field: string]: Value | MemberInput[] };
  /** Makes the submission idempotent: the same guid and content returns the stored event. */
  guid?: string;
  /** RFC 3339; defaults to now. */
  timestamp?: string;
}

/** A recorded event. */
export interface Event {
  guid: string;
  entityGuid: string;
  type: string;
  data: { [field: string]: Value };
  /** RFC 3339 UTC with milliseconds. */
  timestamp: string;
  userId: string;
  syncLevel: SyncLevel;
  /** Server sequence number, once synced. */
  seq?: number;
  /** The entity version the event was based on (0 for creations). */
  baseVersion: number;
  /** Why the server refused the event, if it did. */
  failure?: { code: string; message: string };
}

/** An individual or group as it is now on this device. */
export interface Entity {
  guid: string;
  type: EntityType;
  /** Number of events applied. */
  version: number;
  data: { [field: string]: Value };
  /** Groups only: member guids in the order they were added. */
  memberIds?: string[];
  externalId?: string;
  lastUpdated: string;
  syncLevel: SyncLevel;
  /** A tombstone: deleted, kept so the delete can sync. */
  deleted?: boolean;
}

export interface FieldChange { field: string; old: Value; new: Value; }

export interface AuditEntry {
  id: number;
  guid: string;
  timestamp: string;
  userId: string;
  /** The event type, or a sync operation: 'sync' (this device), 'push' / 'pull' (the server's, pulled with the events). */
  action: string;
  eventGuid?: string;
  entityGuid?: string;
  /** Event changes; a device's 'sync' entry carries the trigger as {field: 'trigger', new: 'manual' | 'local' | ...}. */
  changes?: FieldChange[];
  /** Sync operations only: */
  deviceId?: string;
  /** Distinct entities affected. */
  entities?: number;
  events?: number;
  durationMs?: number;
  status?: 'ok' | 'error';
  /** "CODE: message" of a failed operation. */
  error?: string;
}

export interface InitOptions {
  /** The app (tenant). Each app has its own database. */
  appId: string;
  /** IndexedDB database name; default "datacollect-" + appId. */
  dbName?: string;
  /** Recorded on events until login (default "local"). */
  userId?: string;
  /** The sync server's root URL; default: this page's origin. */
  serverUrl?: string;
  /** Events per push request (default 100). */
  batchSize?: number;
  /** Events per pull page (default 500). */
  pageSize?: number;
  /** Push requests in flight (default 5); events of one entity are never reordered. */
  concurrency?: number;
  /** Sync by itself (default true): after local changes (debounced), when the network returns,
   *  on an idle poll that backs off while nothing changes, and on retries with exponential backoff. */
  autoSync?: boolean;
  /** Delay after a local change before syncing (default 2000). */
  debounceMs?: number;
  /** Idle poll interval after a sync that changed something (default 30000); doubles up to pollMaxMs. */
  pollMinMs?: number;
  /** Longest idle poll interval (default 600000). */
  pollMaxMs?: number;
  /** First retry delay cap (default 1000); doubles per failure, full jitter. */
  retryBaseMs?: number;
  /** Longest retry delay (default 300000). */
  retryMaxMs?: number;
  /** Failed attempts in a row before automatic retries stop (default 10). */
  maxRetries?: number;
  /** Compound keys flagging potential duplicates, per entity type: the fields whose values (trimmed,
   *  lower-cased, inner white space collapsed; numbers canonical) together identify a person or group.
   *  Default {individual: ['nationalId'], group: ['nationalId']}; a type left out, or with [], is never
   *  flagged. Entities missing a key field are never flagged. */
  duplicateKeys?: { individual?: string[]; group?: string[] };
  /** How concurrent edits of one entity are settled (recorded on each event, so every device agrees):
   *  'merge' (default: field-level; a field edited on both sides goes to its resolver),
   *  'lww' (the whole later edit wins), 'manual' (last-writer-wins for now, and the conflict stays open
   *  for the user: conflicts(), the `conflict` event, setConflictResolver, resolveConflict). */
  conflictStrategy?: 'merge' | 'lww' | 'manual';
  /** Per-field resolvers of 'merge' (default 'lww': the later edit, by a hybrid logical clock). */
  fieldResolvers?: { [field: string]: 'lww' | 'max' | 'min' | 'union' };
  /** Encrypts the database at rest: every payload (events, entities, audit log, session) is sealed with
   *  AES-256-GCM under a key derived from this passphrase (PBKDF2-SHA256, 600,000 iterations, random salt kept
   *  beside the data) and held as a non-extractable CryptoKey; only guids, types, sync levels and sequence
   *  numbers stay in clear, and duplicate keys are kept as keyed hashes. A new or clear database is encrypted
   *  (progress events with phase 'encrypt'); an encrypted one needs the same passphrase: a wrong or missing
   *  one rejects with ECRYPTO and changes nothing. At least 8 characters. Never stored. */
  passphrase?: string;
}

/** An open conflict (strategy 'manual'), from this device's point of view. */
export interface Conflict {
  id: string;
  entityGuid: string;
  /** The field, or 'deleted' for a delete against a concurrent edit. */
  field: string;
  localValue: Value;
  remoteValue: Value;
  localEvent: string;
  remoteEvent: string;
  /** The value in force until it is resolved (the later edit's, on every device). */
  value: Value;
}

export type ConflictResolution =
  | { strategy: 'local' | 'remote' }
  | { strategy: 'manual'; value: Value };

/** Potential duplicates: live entities sharing a duplicate key, not declared distinct. */
export interface DuplicateGroup {
  /** "<type>|<value>|<value>...", the normalised key values. */
  key: string;
  /** By guid. */
  entities: Entity[];
}

/** The logged-in user (the token itself is never exposed). */
export interface Session { userId: string; email: string; role: 'sync' | 'admin'; expiresAt: string; }

export interface SyncResult {
  pushed: number;
  pulled: number;
  /** Events the server rejected (they stay, marked with `failure`). */
  failed: number;
  /** Pushed events based on a version another device changed meanwhile. */
  conflicts: number;
  /** Distinct entities pushed or pulled. */
  entities: number;
  durationMs: number;
  /** Bytes on the wire (after compression). */
  bytesSent: number;
  bytesReceived: number;
}

export interface ErrorInfo { code: ErrorCode; message: string; }

/** status(): persisted in IndexedDB (survives reloads, shared by the app's tabs). */
export interface SyncStatus {
  /** When the last successful sync ended (RFC 3339), or ''. */
  lastSyncTime: string;
  syncInProgress: boolean;
  /** Recorded here, not yet acknowledged by the server (failed ones excluded). */
  pendingEvents: number;
  /** Refused by the server, with a reason (inspect().failedItems); retryFailed() re-queues them. */
  failedEvents: number;
  /** Open conflicts (strategy 'manual') waiting for a resolution: see conflicts(). */
  conflicts: number;
  /** When the next automatic retry is due (RFC 3339), or ''. */
  nextRetry: string;
  online: boolean;
  lastAttempt: string;
  /** The last attempt's error, null after a success. */
  lastError: ErrorInfo | null;
  /** Failed attempts in a row. */
  retryAttempts: number;
  /** Nobody is logged in, or the server refused the session (401): automatic sync waits for login(). */
  authRequired: boolean;
}

/** One sync attempt's measurements (metrics(), the `metrics` event, the telemetry sent to the server). */
export interface SyncMetrics {
  /** Milliseconds. */
  syncDuration: number;
  entitiesSynced: number;
  bytesTransferred: number;
  conflictsResolved: number;
  /** Errors of this attempt and of the failed attempts before it in a row (transport errors and refused events). */
  errorsEncountered: number;
  /** Failed attempts before this one in a row (after 503, 503, 200: 2). */
  retryAttempts: number;
}

export interface FailedItem { guid: string; entityGuid: string; type: string; timestamp: string; code: string; message: string; }

/** inspect(): a support view of the device's sync state. */
export interface Inspection {
  unsyncedEvents: number;
  lastSync: string;
  /** The pull cursor: the last server sequence number applied here. */
  cursor: number;
  unresolvedConflicts: number;
  /** The first 100 failed events and why. */
  failedItems: FailedItem[];
  nextRetry: string;
  /** When the next automatic sync is due and why ('local', 'poll', 'retry', 'online', ...), or ''. */
  nextSync: string;
  nextTrigger: string;
  attempts: number;
  online: boolean;
  autoSync: boolean;
  authRequired: boolean;
  pollIntervalMs: number;
  lastError: ErrorInfo | null;
  metrics: SyncMetrics | null;
  deviceId: string;
}

/** verify(): whether this device holds exactly the server's events up to its cursor (digest roots, hex). */
export interface Verification {
  match: boolean;
  /** The pull cursor the roots are compared at. */
  cursor: number;
  /** The root of the confirmed events this device holds, and the server's, after event `cursor`. */
  localRoot: string;
  serverRoot: string;
  /** A mismatch was found and repaired (the events re-pulled from divergedAt on). */
  repaired: boolean;
  /** The first sequence number whose event differed (0 if only the stored root was wrong). */
  divergedAt: number;
  /** Events pulled again by the repair. */
  refetched: number;
}

export interface AlertDetail {
  /** 'errors': a sync saw more than 10 errors; 'gave-up': automatic retries stopped. */
  type: 'errors' | 'gave-up';
  message: string;
  errors: number;
  error?: ErrorInfo;
}

export interface SyncDetail { result: SyncResult; metrics: SyncMetrics; error: ErrorInfo | null; }

export interface ChangeDetail { entities: Entity[]; }
export interface ProgressDetail { phase: 'push' | 'pull' | 'encrypt'; done: number; total: number; }

export interface DataCollectEventMap {
  /** Entities changed (after every commit that changed some, including pulls). */
  change: CustomEvent<ChangeDetail>;
  /** A sync phase advanced (after each push batch and pull page). */
  progress: CustomEvent<ProgressDetail>;
  /** The status may have changed (local changes, syncs, network, other tabs' syncs). */
  status: CustomEvent<SyncStatus>;
  /** A sync attempt ended (automatic or not, successful or not). */
  sync: CustomEvent<SyncDetail>;
  /** Each attempt's metrics. */
  metrics: CustomEvent<SyncMetrics>;
  /** More than 10 errors in a sync, or retries given up. */
  alert: CustomEvent<AlertDetail>;
  /** The server refused the session (401): call login() again; syncing then resumes. */
  auth: CustomEvent<ErrorInfo>;
  /** A new open conflict (strategy 'manual'), once per conflict and page. */
  conflict: CustomEvent<Conflict>;
}

export interface DataCollect {
  /** Resolves with the API once the wasm module runs; rejects with code ELOAD. */
  readonly ready: Promise<DataCollect>;
  readonly version: string;
  /** Opens the app's store (closing any other). */
  init(options: InitOptions): Promise<{ appId: string; dbName: string; encrypted: boolean }>;
  close(): Promise<void>;
  /** Closes the store and forgets the encryption keys: every call rejects with ECRYPTO until unlock(). */
  lock(): Promise<void>;
  /** Re-opens the last init() with its passphrase; a wrong one rejects with ECRYPTO and stays locked. */
  unlock(passphrase: string): Promise<{ appId: string; dbName: string; encrypted: boolean }>;
  /** Stores one form as a LOCAL event and applies it to its entities, atomically. */
  submitForm(form: FormInput): Promise<Event>;
  /** Stores a batch atomically: all or nothing. Later forms see earlier ones. */
  submitForms(forms: FormInput[]): Promise<Event[]>;
  getEntity(guid: string): Promise<Entity | null>;
  listEntities(options?: { type?: EntityType; externalId?: string; includeDeleted?: boolean; limit?: number }): Promise<Entity[]>;
  /** Events in the order they were recorded on this device. */
  listEvents(options?: { entityGuid?: string; syncLevel?: SyncLevel; limit?: number }): Promise<Event[]>;
  /** Logs in to the server of init's serverUrl; the session is kept across reloads. Resumes automatic sync. */
  login(email: string, password: string): Promise<Session>;
  /** Forgets the session (local data stays); automatic sync waits for the next login. */
  logout(): Promise<void>;
  /** The current session, or null. */
  session(): Promise<Session | null>;
  /** Pushes the LOCAL events, then pulls everyone else's. A call while a sync runs joins it; tabs of
   *  one app take turns (Web Locks). Rejects with the attempt's error (ENETWORK offline, EUNAUTHORIZED, ...). */
  sync(): Promise<SyncResult>;
  /** Pushes only. */
  push(): Promise<SyncResult>;
  /** Pulls only. */
  pull(): Promise<SyncResult>;
  /** The open conflicts of this device's entities (strategy 'manual'). */
  conflicts(): Promise<Conflict[]>;
  /** Settles a conflict with a resolve-conflict event, synced so every device applies it. ENOTFOUND if no longer open. */
  resolveConflict(id: string, resolution: ConflictResolution): Promise<Event>;
  /** Asked for each open conflict (after each sync): answer a resolution, or null/undefined to leave it open
   *  (e.g. for a dialog later). null removes the resolver. */
  setConflictResolver(resolver: ((c: Conflict) => ConflictResolution | null | undefined | Promise<ConflictResolution | null | undefined>) | null): Promise<void>;
  /** The sync status. */
  status(): Promise<SyncStatus>;
  /** The last attempt's metrics (persisted), or null before the first. */
  metrics(): Promise<SyncMetrics | null>;
  /** Re-queues the failed events (after the cause was fixed) and schedules a sync. */
  retryFailed(): Promise<{ requeued: number }>;
  /** Debugging: the device's sync state. */
  inspect(): Promise<Inspection>;
  /** Dry run: how many events a sync would push, and (asking the server) pull. Changes nothing. */
  plan(): Promise<{ push: number; pull: number }>;
  /** Turns automatic sync on or off; returns the status. */
  setAutoSync(on: boolean): Promise<SyncStatus>;
  /** Proves convergence: compares this device's digest root with the server's at its cursor (one request); on a
   *  mismatch finds where the histories differ (O(log n) requests), re-pulls from there, rebuilds what those
   *  events touch and verifies again. */
  verify(): Promise<Verification>;
  /** Potential duplicates, by key (at most limit groups), found through an index. Flagged entities block
   *  nothing; resolve each pair with a 'resolve-duplicate' form: action 'merge' (the duplicate becomes a
   *  tombstone with data.mergedInto) or 'keep' (both stay, declared distinct on every device). */
  duplicates(options?: { limit?: number }): Promise<DuplicateGroup[]>;
  /** Newest first: entity changes, and sync operations (this device's and the server's). */
  auditLog(options?: { entityGuid?: string; limit?: number }): Promise<AuditEntry[]>;
  addEventListener<K extends keyof DataCollectEventMap>(type: K, listener: (ev: DataCollectEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof DataCollectEventMap>(type: K, listener: (ev: DataCollectEventMap[K]) => void, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface Window { datacollect: DataCollect; }
}
