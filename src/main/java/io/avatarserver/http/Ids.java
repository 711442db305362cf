package io.avatarserver.http;

import java.util.regex.Pattern;

/** Path ids are positive decimal integers that fit a signed 64-bit long; nothing else. */
final class Ids {

  private static final Pattern POSITIVE = Pattern.compile("[1-9][0-9]{0,18}");

  private Ids() {
  }

  static long parse(String raw) {
    if (raw != null && POSITIVE.matcher(raw).matches()) {
      try {
        return Long.parseLong(raw);
      } catch (NumberFormatException tooLarge) {
        // 19 digits above Long.MAX_VALUE: fall through to the refusal.
      }
    }
    String shown = raw == null || raw.length() <= 32 ? raw : raw.substring(0, 32) + "…";
    throw Problem.INVALID_ID.exception("Ids are positive integers; got '" + shown + "'");
  }
}
