package io.avatarserver.variant.vips;

import com.sun.jna.Callback;
import com.sun.jna.Library;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.LongByReference;
import com.sun.jna.ptr.PointerByReference;

/**
 * The part of libvips' C API (8.13+) that the render engine uses, mapped by JNA. Operations take
 * libvips' optional arguments as NULL-terminated name/value varargs: ints as {@link Integer}, booleans
 * as {@link Integer} 0/1, enums as their {@link Integer} value, doubles as {@link Double}, strings as
 * {@link String}, and a {@code null} last. {@code size_t} is mapped to {@code long} (64-bit Linux).
 * Every call BLOCKS: worker threads only. Obtain it through {@link Vips#load()}, which initialises
 * libvips and blocks its untrusted loaders first.
 */
public interface VipsLib extends Library {

  // Start-up and global settings.
  int vips_init(String argv0);

  int vips_version(int flag);

  void vips_concurrency_set(int concurrency);

  void vips_cache_set_max(int max);

  void vips_cache_set_max_mem(long maxMem);

  void vips_cache_set_max_files(int maxFiles);

  void vips_block_untrusted_set(int state);

  void vips_operation_block_set(String name, int state);

  // Errors: one process-wide buffer.
  String vips_error_buffer();

  void vips_error_clear();

  // Memory accounting (pixel buffers libvips allocates itself).
  long vips_tracked_get_mem();

  int vips_tracked_get_allocs();

  long vips_tracked_get_mem_highwater();

  /** Calls {@code fn} for every live VipsObject; a non-NULL result stops the walk and is returned. */
  Pointer vips_object_map(ObjectMapFn fn, Pointer a, Pointer b);

  /** {@code void *(*VipsSListMap2Fn)(void *item, void *a, void *b)}. */
  interface ObjectMapFn extends Callback {
    Pointer invoke(Pointer item, Pointer a, Pointer b);
  }

  // Sources and images.
  Pointer vips_source_new_from_file(String filename);

  Pointer vips_image_new_from_source(Pointer source, String optionString, Object... args);

  Pointer vips_image_new_from_file(String name, Object... args);

  Pointer vips_image_new_from_buffer(Pointer buf, long len, String optionString, Object... args);

  Pointer vips_image_copy_memory(Pointer image);

  int vips_image_get_width(Pointer image);

  int vips_image_get_height(Pointer image);

  int vips_image_get_bands(Pointer image);

  int vips_image_get_n_pages(Pointer image);

  int vips_image_get_page_height(Pointer image);

  int vips_image_get_orientation(Pointer image);

  int vips_image_hasalpha(Pointer image);

  /** The GType of a metadata field, 0 when the image has no such field. */
  long vips_image_get_typeof(Pointer image, String name);

  int vips_image_get_string(Pointer image, String name, PointerByReference out);

  void vips_image_set_int(Pointer image, String name, int value);

  // Operations: 0 on success, -1 with the error buffer set.
  int vips_thumbnail_source(Pointer source, PointerByReference out, int width, Object... args);

  int vips_thumbnail_image(Pointer in, PointerByReference out, int width, Object... args);

  int vips_extract_area(Pointer in, PointerByReference out, int left, int top, int width, int height, Object... args);

  int vips_arrayjoin(Pointer[] in, PointerByReference out, int n, Object... args);

  int vips_copy(Pointer in, PointerByReference out, Object... args);

  int vips_bandjoin_const1(Pointer in, PointerByReference out, double c, Object... args);

  int vips_flatten(Pointer in, PointerByReference out, Object... args);

  int vips_icc_transform(Pointer in, PointerByReference out, String outputProfile, Object... args);

  int vips_resize(Pointer in, PointerByReference out, double scale, Object... args);

  int vips_getpoint(Pointer in, PointerByReference vector, IntByReference n, int x, int y, Object... args);

  Pointer vips_array_double_new(double[] array, int n);

  void vips_area_unref(Pointer area);

  // Savers.
  int vips_jpegsave_buffer(Pointer in, PointerByReference buf, LongByReference len, Object... args);

  int vips_pngsave_buffer(Pointer in, PointerByReference buf, LongByReference len, Object... args);

  int vips_webpsave_buffer(Pointer in, PointerByReference buf, LongByReference len, Object... args);

  int vips_gifsave_buffer(Pointer in, PointerByReference buf, LongByReference len, Object... args);

  int vips_image_write_to_file(Pointer in, String name, Object... args);

  // GLib / GObject (resolved through libvips' own dependencies).

  /** {@code void (*GLogFunc)(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)}. */
  interface LogFn extends Callback {
    void invoke(String domain, int level, String message, Pointer data);
  }

  int g_log_set_handler(String domain, int levels, LogFn handler, Pointer data);

  void g_free(Pointer mem);

  void g_object_unref(Pointer object);
}
