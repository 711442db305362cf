package io.avatarserver.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;

import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;

/** Conditional GET (RFC 9110 §13): If-None-Match, and If-Modified-Since only when there is none. */
final class Conditional {

  private Conditional() {
  }

  static boolean notModified(HttpServerRequest request, String etag, Instant lastModified) {
    String ifNoneMatch = request.getHeader(HttpHeaders.IF_NONE_MATCH);
    if (ifNoneMatch != null) {
      // §13.1.2: weak comparison; "*" matches any current representation.
      for (String candidate : ifNoneMatch.split(",")) {
        String tag = candidate.trim();
        if (tag.startsWith("W/")) {
          tag = tag.substring(2);
        }
        if (tag.equals("*") || tag.equals(etag)) {
          return true;
        }
      }
      return false;
    }
    String ifModifiedSince = request.getHeader(HttpHeaders.IF_MODIFIED_SINCE);
    if (ifModifiedSince != null) {
      try {
        Instant since = ZonedDateTime.parse(ifModifiedSince.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        // HTTP dates have whole seconds.
        return lastModified.getEpochSecond() <= since.getEpochSecond();
      } catch (DateTimeParseException ignored) {
        // §13.1.3: an invalid date is ignored.
      }
    }
    return false;
  }
}
