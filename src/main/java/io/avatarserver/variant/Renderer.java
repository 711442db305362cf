package io.avatarserver.variant;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * A rendering engine. Every method BLOCKS and must run on a worker thread, never on an event loop.
 * Implementations: a pure-Java one (the default, needs nothing installed) and libvips through JNA.
 */
public interface Renderer {

  /** The engine's name for logs and configuration ({@code java}, {@code vips}). */
  String name();

  /**
   * Reads the original's header (dimensions, frames, orientation) without decoding its pixels.
   *
   * @throws RenderException when the file is not an image this engine reads
   */
  SourceInfo probe(Path original, String mediaType) throws IOException, RenderException;

  /**
   * Renders every spec from ONE decode of {@code original}: the largest first, the smaller ones
   * derived from it. Decodes subsampled (at most about twice the largest target per side), applies
   * the orientation, crops the centre square, and encodes without metadata. The caller has checked
   * {@code info} against {@code limits}; an engine still refuses an input beyond them.
   *
   * @throws RenderException when the image cannot be rendered (broken, beyond the limits)
   */
  List<Rendered> render(Path original, SourceInfo info, List<VariantSpec> specs, RenderLimits limits)
    throws IOException, RenderException;

  /**
   * Tells an engine that renders in the Java heap how much of it other work holds now (uploads in
   * flight), so that its renders leave that room; called once, when the server is wired. An engine
   * whose pixels live outside the heap (libvips) ignores it.
   */
  default void shareHeapWith(LongSupplier otherWorkBytes) {
  }

  /** The heap reserved by renders in progress, in bytes; 0 for an engine whose pixels are not in the heap. */
  default long heapReservedBytes() {
    return 0;
  }
}
