package io.avatarserver.support;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds multipart/form-data bodies (RFC 7578) by hand, so tests control every byte. */
public final class Multipart {

  public static final String BOUNDARY = "avatar-test-boundary-7MA4YWxkTrZu0gW";
  public static final String CONTENT_TYPE = "multipart/form-data; boundary=" + BOUNDARY;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  public Multipart file(String field, String filename, String contentType, byte[] content) {
    text("--" + BOUNDARY + "\r\n"
      + "Content-Disposition: form-data; name=\"" + field + "\"; filename=\"" + filename + "\"\r\n"
      + "Content-Type: " + contentType + "\r\n\r\n");
    out.writeBytes(content);
    return text("\r\n");
  }

  public Multipart field(String name, String value) {
    return text("--" + BOUNDARY + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n");
  }

  public byte[] build() {
    text("--" + BOUNDARY + "--\r\n");
    return out.toByteArray();
  }

  private Multipart text(String s) {
    out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    return this;
  }
}
