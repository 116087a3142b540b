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
   *  add-member, remove-member, delete-entity, resolve-duplicate; or a custom type registered from Go. */
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
  /** The event type (or sync operation). */
  action: string;
  eventGuid?: string;
  entityGuid?: string;
  changes?: FieldChange[];
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
  durationMs: number;
  /** Bytes on the wire (after compression). */
  bytesSent: number;
  bytesReceived: number;
}

export interface ChangeDetail { entities: Entity[]; }
export interface ProgressDetail { phase: 'push' | 'pull'; done: number; total: number; }

export interface DataCollectEventMap {
  /** Entities changed (after every commit that changed some, including pulls). */
  change: CustomEvent<ChangeDetail>;
  /** A sync phase advanced (after each push batch and pull page). */
  progress: CustomEvent<ProgressDetail>;
}

export interface DataCollect {
  /** Resolves with the API once the wasm module runs; rejects with code ELOAD. */
  readonly ready: Promise<DataCollect>;
  readonly version: string;
  /** Opens the app's store (closing any other). */
  init(options: InitOptions): Promise<{ appId: string; dbName: string }>;
  close(): Promise<void>;
  /** Stores one form as a LOCAL event and applies it to its entities, atomically. */
  submitForm(form: FormInput): Promise<Event>;
  /** Stores a batch atomically: all or nothing. Later forms see earlier ones. */
  submitForms(forms: FormInput[]): Promise<Event[]>;
  getEntity(guid: string): Promise<Entity | null>;
  listEntities(options?: { type?: EntityType; externalId?: string; includeDeleted?: boolean; limit?: number }): Promise<Entity[]>;
  /** Events in the order they were recorded on this device. */
  listEvents(options?: { entityGuid?: string; syncLevel?: SyncLevel; limit?: number }): Promise<Event[]>;
  /** Logs in to the server of init's serverUrl; the session is kept across reloads. */
  login(email: string, password: string): Promise<Session>;
  /** Forgets the session (local data stays). */
  logout(): Promise<void>;
  /** The current session, or null. */
  session(): Promise<Session | null>;
  /** Pushes the LOCAL events, then pulls everyone else's. A call while a sync runs joins it. */
  sync(): Promise<SyncResult>;
  /** Pushes only. */
  push(): Promise<SyncResult>;
  /** Pulls only. */
  pull(): Promise<SyncResult>;
  /** Newest first. */
  auditLog(options?: { entityGuid?: string; limit?: number }): Promise<AuditEntry[]>;
  addEventListener<K extends keyof DataCollectEventMap>(type: K, listener: (ev: DataCollectEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof DataCollectEventMap>(type: K, listener: (ev: DataCollectEventMap[K]) => void, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface Window { datacollect: DataCollect; }
}
