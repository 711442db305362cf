package io.avatarserver.upload;

import io.avatarserver.avatar.Failure;
import io.avatarserver.support.Bodies;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The writing stage against a staged object whose writes complete when the test says: what goes to
 * the file when, how chunks coalesce, when the pipe must pause and when it is woken, and the budget.
 */
@DisplayName("CoalescingWriter: one write in flight, coalescing meanwhile, backpressure and the budget")
class CoalescingWriterTest {

  private static final int CHUNK = 8 * 1024;
  private static final int WRITE_BUFFER = 32 * 1024;
  private static final int SHARE = WRITE_BUFFER + CoalescingWriter.COALESCING_HEADROOM;

  private final byte[] body = Bodies.png(256 * 1024, 3);
  private final FakeStagedObject staged = new FakeStagedObject().holdWrites();
  private final WriteBudget budget = new WriteBudget(1 << 20);
  private final CoalescingWriter writer = new CoalescingWriter(staged, WRITE_BUFFER, budget);
  private int offset;

  /** The next {@code n} bytes of the body, as a chunk of their own. */
  private Buffer next(int n) {
    Buffer chunk = Buffer.buffer(Arrays.copyOfRange(body, offset, offset + n));
    offset += n;
    return chunk;
  }

  private void assertWrittenSoFar() {
    assertArrayEquals(Arrays.copyOf(body, offset), staged.bytes());
  }

  /** Gathers WRITE_BUFFER bytes in CHUNKs: the first write starts; its size. */
  private int firstFullWrite() {
    for (int i = 0; i < WRITE_BUFFER / CHUNK; i++) {
      assertEquals(0, staged.writeSizes().size(), "written before the buffer was full");
      writer.write(next(CHUNK));
    }
    assertEquals(List.of(WRITE_BUFFER), staged.writeSizes());
    return WRITE_BUFFER;
  }

  @Test
  @DisplayName("With a share, chunks are gathered until writeBufferBytes, then written as one; the share is held until then")
  void gathersBeforeWriting() {
    writer.write(next(CHUNK));
    writer.write(next(1000));
    writer.write(next(CHUNK));
    assertEquals(0, staged.inFlight(), "nothing written while the buffer fills");
    assertEquals(SHARE, budget.reserved());
    assertFalse(writer.writeQueueFull());
    writer.write(next(WRITE_BUFFER - 2 * CHUNK - 1000));
    assertEquals(List.of(WRITE_BUFFER), staged.writeSizes());
    assertEquals(SHARE, budget.reserved(), "held while its buffer is being written");
    staged.complete();
    assertEquals(0, budget.reserved());
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("A 1 MiB body in 16 KiB chunks whose writes end at once (the page cache): 4 writes of 256 KiB, not one per chunk")
  void fewWritesWhenTheDiskIsFast() {
    FakeStagedObject fast = new FakeStagedObject();
    CoalescingWriter gathering = new CoalescingWriter(fast, 256 * 1024, new WriteBudget(1 << 20));
    byte[] large = Bodies.png(1 << 20, 4);
    for (int at = 0; at < large.length; at += 16 * 1024) {
      gathering.write(Buffer.buffer(Arrays.copyOfRange(large, at, at + 16 * 1024)));
    }
    assertTrue(gathering.whenIdle().succeeded());
    assertEquals(List.of(256 * 1024, 256 * 1024, 256 * 1024, 256 * 1024), fast.writeSizes());
    assertArrayEquals(large, fast.bytes());
  }

  @Test
  @DisplayName("Chunks arriving during a write are gathered for the next one; a partly full buffer waits for more, or for the end")
  void coalescesDuringAWrite() {
    int first = firstFullWrite();
    writer.write(next(CHUNK));
    writer.write(next(1000));
    assertEquals(2 * SHARE, budget.reserved(), "the buffer in flight and the one filling");
    assertFalse(writer.writeQueueFull(), "below writeBufferBytes: the pipe keeps going");
    staged.complete();
    assertEquals(List.of(first), staged.writeSizes(), "not full: it waits for more");
    assertEquals(SHARE, budget.reserved());
    Future<Void> idle = writer.whenIdle();
    assertEquals(List.of(first, CHUNK + 1000), staged.writeSizes(), "the end writes what is gathered");
    staged.complete();
    assertTrue(idle.succeeded());
    assertEquals(0, budget.reserved());
    assertEquals(0, staged.inFlight());
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("The end comes while a write is in flight and a partly full buffer waits: that buffer is written before whenIdle succeeds")
  void endDuringAWriteWritesWhatIsGathered() {
    int first = firstFullWrite();
    writer.write(next(CHUNK));
    Future<Void> idle = writer.whenIdle();
    staged.complete();
    assertFalse(idle.isComplete(), "the gathered chunk is still to be written");
    assertEquals(List.of(first, CHUNK), staged.writeSizes());
    staged.complete();
    assertTrue(idle.succeeded());
    assertEquals(0, budget.reserved());
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("Once the gathering buffer holds writeBufferBytes behind a write the queue is full; the drain handler runs when its write starts")
  void fullThenDrained() {
    firstFullWrite();
    for (int i = 0; i < WRITE_BUFFER / CHUNK - 1; i++) {
      writer.write(next(CHUNK));
      assertFalse(writer.writeQueueFull(), "after " + (i + 1) + " coalesced chunks");
    }
    writer.write(next(CHUNK));
    assertTrue(writer.writeQueueFull(), "writeBufferBytes waiting behind a write in flight");
    // The chunk or two already on their way when the pipe pauses still fit, within the headroom.
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    assertTrue(writer.writeQueueFull());

    AtomicInteger drained = new AtomicInteger();
    writer.drainHandler(v -> drained.incrementAndGet());
    staged.complete();
    assertEquals(1, drained.get());
    assertFalse(writer.writeQueueFull());
    assertEquals(List.of(WRITE_BUFFER, WRITE_BUFFER + 2 * CHUNK), staged.writeSizes());
    staged.complete();
    assertEquals(1, drained.get(), "the handler runs once");
    assertEquals(0, budget.reserved());
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("Without a share of the budget, a chunk is written at once as it is; one waiting chunk fills the queue")
  void noShare() {
    CoalescingWriter poor = new CoalescingWriter(staged, WRITE_BUFFER, new WriteBudget(SHARE - 1));
    Buffer first = next(CHUNK);
    poor.write(first);
    assertSame(first, staged.written().get(0), "written at once, no copy");
    Buffer waiting = next(CHUNK);
    poor.write(waiting);
    assertTrue(poor.writeQueueFull(), "the client is paused at once");
    AtomicInteger drained = new AtomicInteger();
    poor.drainHandler(v -> drained.incrementAndGet());
    staged.complete();
    assertEquals(1, drained.get());
    assertSame(waiting, staged.written().get(1), "written as it is, no copy");
    staged.complete();
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("Without a share, chunks already on their way when the pipe paused join the waiting one in an exact-size buffer")
  void noShareTwoWaiting() {
    CoalescingWriter poor = new CoalescingWriter(staged, WRITE_BUFFER, new WriteBudget(0));
    poor.write(next(CHUNK));
    Buffer first = next(CHUNK);
    poor.write(first);
    poor.write(next(100));
    staged.complete();
    assertEquals(List.of(CHUNK, CHUNK + 100), staged.writeSizes());
    assertNotSame(first, staged.written().get(1));
    staged.complete();
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("A chunk of writeBufferBytes or more is not gathered: written at once as it is, or waiting as it is and filling the queue")
  void largeChunkNotCoalesced() {
    Buffer large = next(WRITE_BUFFER);
    writer.write(large);
    assertSame(large, staged.written().get(0));
    assertEquals(0, budget.reserved());
    Buffer second = next(WRITE_BUFFER);
    writer.write(second);
    assertTrue(writer.writeQueueFull());
    assertEquals(0, budget.reserved());
    staged.complete();
    assertSame(second, staged.written().get(1));
    staged.complete();
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("whenIdle succeeds at once when nothing is in flight or gathered, else once everything gathered is written")
  void whenIdle() {
    assertTrue(writer.whenIdle().succeeded());
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    Future<Void> idle = writer.whenIdle();
    assertFalse(idle.isComplete());
    assertEquals(List.of(2 * CHUNK), staged.writeSizes());
    staged.complete();
    assertTrue(idle.succeeded());
    assertEquals(0, budget.reserved());
    assertWrittenSoFar();
  }

  @Test
  @DisplayName("A failed write stops the writer: what waits is dropped, its share returned, the drain handler and whenIdle told")
  void failedWrite() {
    firstFullWrite();
    for (int i = 0; i < WRITE_BUFFER / CHUNK; i++) {
      writer.write(next(CHUNK));
    }
    assertTrue(writer.writeQueueFull());
    AtomicInteger drained = new AtomicInteger();
    writer.drainHandler(v -> drained.incrementAndGet());
    Future<Void> idle = writer.whenIdle();
    IOException disk = new IOException("disk on fire");
    staged.failNext(disk);
    assertSame(disk, writer.failure());
    assertEquals(1, drained.get(), "the pipe is woken, to find the failure on its next write");
    assertFalse(writer.writeQueueFull());
    assertSame(disk, idle.cause());
    assertEquals(List.of(WRITE_BUFFER), staged.writeSizes(), "nothing more is written");
    assertEquals(0, budget.reserved());
    assertSame(disk, writer.whenIdle().cause());
  }

  @Test
  @DisplayName("A refusal during a write: the write in flight completes, what waits is dropped and its share returned")
  void refusedMeanwhile() {
    firstFullWrite();
    writer.write(next(CHUNK));
    var refusal = Failure.INVALID_IMAGE.exception("broken");
    writer.fail(refusal);
    writer.fail(new IOException("later"));
    assertSame(refusal, writer.failure(), "the first failure is kept");
    assertEquals(2 * SHARE, budget.reserved());
    staged.complete();
    assertEquals(List.of(WRITE_BUFFER), staged.writeSizes());
    assertEquals(0, budget.reserved());
    assertEquals(0, staged.inFlight());
  }

  @Test
  @DisplayName("A failure while chunks are gathered and no write is in flight (the client went away): the share is returned at once, nothing written")
  void failedWhileGathering() {
    writer.write(next(CHUNK));
    writer.write(next(CHUNK));
    assertEquals(SHARE, budget.reserved());
    writer.fail(new IOException("connection reset"));
    assertEquals(0, budget.reserved(), "a gathering buffer must not outlive its upload");
    assertEquals(List.of(), staged.writeSizes());
    assertTrue(writer.whenIdle().failed());
    assertEquals(List.of(), staged.writeSizes());
  }

  @Test
  @DisplayName("Many uploads' writers together never reserve more than the budget; each returns its share")
  void sharedBudget() {
    WriteBudget shared = new WriteBudget(2L * SHARE);
    List<FakeStagedObject> files = List.of(new FakeStagedObject().holdWrites(), new FakeStagedObject().holdWrites(),
      new FakeStagedObject().holdWrites());
    List<CoalescingWriter> writers = files.stream().map(f -> new CoalescingWriter(f, WRITE_BUFFER, shared)).toList();
    for (CoalescingWriter w : writers) {
      w.write(Buffer.buffer(new byte[CHUNK]));
      w.write(Buffer.buffer(new byte[CHUNK]));
    }
    assertEquals(2L * SHARE, shared.reserved());
    assertFalse(writers.get(0).writeQueueFull());
    assertFalse(writers.get(1).writeQueueFull());
    assertTrue(writers.get(2).writeQueueFull(), "the third got no share: it pauses its client");
    files.get(2).complete();
    files.get(2).complete();
    for (int i = 0; i < 2; i++) {
      assertTrue(!writers.get(i).whenIdle().isComplete());
      files.get(i).complete();
    }
    assertEquals(0, shared.reserved());
  }
}
