/** A SQL92 expression that does not compile: what is wrong and where (RocketMQ answers such a subscription 23). */
export class Sql92ParseError extends Error {
  override readonly name = 'Sql92ParseError';
  constructor(
    /** What was wrong, without the position. */
    readonly reason: string,
    /** 0-based index into the expression. */
    readonly position: number,
    /** 1-based line and column of `position` (JavaCC's "line 1, column 5"). */
    readonly line: number,
    readonly column: number,
  ) {
    super(`SQL92 expression: ${reason} at line ${line}, column ${column}`);
  }

  static at(text: string, position: number, reason: string): Sql92ParseError {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < position && i < text.length; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return new Sql92ParseError(reason, position, line, position - lineStart + 1);
  }
}
