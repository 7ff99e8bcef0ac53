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

  close(): void {
    this.client.close();
  }
}
