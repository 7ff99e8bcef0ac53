/**
 * The frames a server's connections may handle in one event-loop turn, shared equally among the connections that
 * handle frames. Every connection's reads, decodes and processing run on the one event loop, so a request arriving
 * on a quiet connection waits for the rest of the turn: bounding the turn bounds that wait, and the equal share
 * keeps one connection's burst from taking the turn. A lone busy connection gets the whole `framesPerTurnMax`;
 * while several compete the turn is shorter (`framesPerContendedTurnMax`), since then someone is waiting on it.
 */
/** Turns over which connections that handled frames still count as competing. */
const recentTurns = 8;
/** Consecutive turns with competing connections before the server counts as contended (onContended(true))… */
export const contendedTurnsToEnter = 32;
/** …and consecutive turns without before it no longer does: a flood is told from two requests meeting by chance. */
export const calmTurnsToLeave = 64;

export class TurnShare {
  private turnNo = 0;
  private turnArmed = false;
  /** Connections that handled frames in the current turn. */
  private activeNow = 0;
  /** The most that did in one of the last `recentTurns` turns: a flood's connections take turns reading. */
  private activeRecent = 0;
  private readonly activeHistory = new Array<number>(recentTurns).fill(0);
  /** Connections with frames read and waiting for a later turn (they compete even in a turn they sit out). */
  private waitingNow = 0;
  private readonly contendedMax: number;
  private isContended = false;
  /** Turns in a row whose competition disagreed with isContended. */
  private streak = 0;

  /** `onContended` hears when connections start (true) or stop (false) competing for turns for a while. */
  constructor(
    readonly framesPerTurnMax: number,
    framesPerContendedTurnMax: number = framesPerTurnMax,
    private readonly onContended?: (contended: boolean) => void,
  ) {
    this.contendedMax = Math.min(framesPerTurnMax, framesPerContendedTurnMax);
  }

  /** Whether connections have competed for the last contendedTurnsToEnter turns (until calmTurnsToLeave without). */
  get contended(): boolean {
    return this.isContended;
  }

  /**
   * The current turn's number: it changes once per event-loop iteration (in its check phase) while anyone asks,
   * so frames counted against one number were handled within about one iteration.
   */
  get turn(): number {
    if (!this.turnArmed) {
      this.turnArmed = true;
      setImmediate(() => {
        this.turnArmed = false;
        this.activeHistory[this.turnNo % recentTurns] = this.activeNow;
        this.turnNo++;
        this.activeNow = 0;
        let most = 0;
        for (const n of this.activeHistory) if (n > most) most = n;
        this.activeRecent = most;
        this.noteCompetition(Math.max(most, this.waitingNow) > 1);
      });
    }
    return this.turnNo;
  }

  private noteCompetition(competing: boolean): void {
    if (competing === this.isContended) {
      this.streak = 0;
      return;
    }
    if (++this.streak < (competing ? contendedTurnsToEnter : calmTurnsToLeave)) return;
    this.isContended = competing;
    this.streak = 0;
    this.onContended?.(competing);
  }

  /** A connection starts handling frames in the current turn. */
  activate(): void {
    this.activeNow++;
  }

  /** A connection starts (+1) or stops (-1) holding frames for a later turn. */
  waiting(delta: 1 | -1): void {
    this.waitingNow += delta;
  }

  /** Frames one connection may handle in one turn (at least one). */
  get share(): number {
    const active = Math.max(this.activeNow, this.activeRecent, this.waitingNow);
    if (active <= 1) return this.framesPerTurnMax;
    return Math.max(1, Math.floor(this.contendedMax / active));
  }
}
