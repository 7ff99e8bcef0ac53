/** A plain @grpc/grpc-js MessagingService client on our loaded .proto, for requests no real client would send. */
import { credentials, Metadata, type ServiceClientConstructor } from '@grpc/grpc-js';
import { rocketmqV2 } from '../../src/proxy/proto.js';

type Callback = (err: Error | null, res: unknown) => void;
type UnaryMethod = (req: object, md: Metadata, opts: object, cb: Callback) => void;

export class RawClient {
  private readonly client: InstanceType<ServiceClientConstructor>;

  constructor(
    endpoints: string,
    readonly clientId = 'raw-client-1',
  ) {
    const Ctor = rocketmqV2()['MessagingService'] as ServiceClientConstructor;
    this.client = new Ctor(endpoints, credentials.createInsecure());
  }

  metadata(clientId = this.clientId): Metadata {
    const md = new Metadata();
    if (clientId !== '') md.set('x-mq-client-id', clientId);
    return md;
  }

  /** A unary call; resolves to the response object (its `status` says how it went). */
  call<T = Record<string, unknown>>(rpc: string, req: object, md = this.metadata()): Promise<T> {
    const method = (this.client as unknown as Record<string, UnaryMethod>)[rpc];
    if (method === undefined) throw new Error(`no RPC ${rpc}`);
    return new Promise((resolve, reject) => {
      method.call(this.client, req, md, { deadline: Date.now() + 10_000 }, (err, res) =>
        err === null ? resolve(res as T) : reject(err),
      );
    });
  }

  /** A server-stream call; resolves to every response once the server ends it. */
  stream<T = Record<string, unknown>>(rpc: string, req: object, md = this.metadata()): Promise<T[]> {
    const method = (this.client as unknown as Record<string, (r: object, m: Metadata) => NodeJS.EventEmitter>)[rpc];
    if (method === undefined) throw new Error(`no RPC ${rpc}`);
    const call = method.call(this.client, req, md);
    const out: T[] = [];
    return new Promise((resolve, reject) => {
      call.on('data', (d: T) => out.push(d));
      call.on('end', () => resolve(out));
      call.on('error', reject);
    });
  }

  /** Opens Telemetry; `next()` resolves to the next command the server writes (undefined once it ended). */
  telemetry(md = this.metadata()): { write(cmd: object): void; next(): Promise<unknown>; end(): void } {
    const method = (this.client as unknown as Record<string, (m: Metadata) => NodeJS.ReadWriteStream>)['Telemetry'];
    if (method === undefined) throw new Error('no RPC Telemetry');
    const call = method.call(this.client, md) as NodeJS.ReadWriteStream & NodeJS.EventEmitter;
    const queued: unknown[] = [];
    const waiting: Array<(v: unknown) => void> = [];
    let ended = false;
    const push = (v: unknown) => {
      const w = waiting.shift();
      if (w !== undefined) w(v);
      else queued.push(v);
    };
    call.on('data', push);
    call.on('end', () => {
      ended = true;
      for (const w of waiting.splice(0)) w(undefined);
    });
    call.on('error', () => {
      ended = true;
      for (const w of waiting.splice(0)) w(undefined);
    });
    return {
      write: (cmd) => (call as unknown as { write(c: object): boolean }).write(cmd),
      next: () =>
        queued.length > 0 || ended ? Promise.resolve(queued.shift()) : new Promise((resolve) => waiting.push(resolve)),
      end: () => call.end(),
    };
  }

  close(): void {
    this.client.close();
  }
}
