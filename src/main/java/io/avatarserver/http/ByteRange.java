package io.avatarserver.http;

import java.util.Locale;

/**
 * A request's {@code Range} (RFC 9110 §14.2) against a representation of {@code size} bytes: one byte range
 * ({@code bytes=a-b}, {@code a-}, {@code -n}) is served as 206; several ranges, another unit, or a field
 * that does not parse are ignored (the whole representation, 200, as §14.2 allows); a range that starts at
 * or after the end is unsatisfiable (416).
 */
record ByteRange(long start, long length) {

  /** The whole representation: no range applies. */
  static final ByteRange WHOLE = new ByteRange(0, -1);
  /** A range none of whose bytes exist. */
  static final ByteRange UNSATISFIABLE = new ByteRange(-1, -1);

  static ByteRange of(String header, long size) {
    if (header == null) {
      return WHOLE;
    }
    String value = header.trim();
    if (!value.toLowerCase(Locale.ROOT).startsWith("bytes=")) {
      return WHOLE;
    }
    String spec = value.substring("bytes=".length()).trim();
    if (spec.contains(",")) {
      return WHOLE;
    }
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return WHOLE;
    }
    String first = spec.substring(0, dash).trim();
    String last = spec.substring(dash + 1).trim();
    if (!digits(first) || !digits(last) || first.isEmpty() && last.isEmpty()) {
      return WHOLE;
    }
    if (first.isEmpty()) {
      long suffix = number(last);
      if (suffix == 0 || size == 0) {
        return UNSATISFIABLE;
      }
      long length = Math.min(suffix, size);
      return new ByteRange(size - length, length);
    }
    long start = number(first);
    long end = last.isEmpty() ? Long.MAX_VALUE : number(last);
    if (end < start) {
      return WHOLE;
    }
    if (start >= size) {
      return UNSATISFIABLE;
    }
    return new ByteRange(start, Math.min(end, size - 1) - start + 1);
  }

  /** Digits as a number; more than a long holds is as good as infinite here. */
  private static long number(String digits) {
    try {
      return Long.parseLong(digits);
    } catch (NumberFormatException tooLong) {
      return Long.MAX_VALUE;
    }
  }

  boolean whole() {
    return this == WHOLE;
  }

  boolean unsatisfiable() {
    return this == UNSATISFIABLE;
  }

  /** The {@code Content-Range} of a 206 for a representation of {@code size} bytes. */
  String contentRange(long size) {
    return "bytes " + start + "-" + (start + length - 1) + "/" + size;
  }

  private static boolean digits(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }
}
