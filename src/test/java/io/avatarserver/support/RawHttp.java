package io.avatarserver.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * A bare HTTP/1.1 connection for what a client library hides: 100 Continue, framing, a client that
 * vanishes half-way through a body, and whether the server closed the connection.
 */
public final class RawHttp implements AutoCloseable {

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;

  public RawHttp(int port) {
    try {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(10_000);
      in = socket.getInputStream();
      out = socket.getOutputStream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public RawHttp write(String text) {
    return write(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  public RawHttp write(byte[] bytes) {
    return write(bytes, 0, bytes.length);
  }

  public RawHttp write(byte[] bytes, int offset, int length) {
    try {
      out.write(bytes, offset, length);
      out.flush();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** One chunk of a chunked body (RFC 9112 §7.1). */
  public RawHttp chunk(byte[] bytes, int offset, int length) {
    write(Integer.toHexString(length) + "\r\n");
    write(bytes, offset, length);
    return write("\r\n");
  }

  /** Reads one response head (status line and headers) and returns it. */
  public String readHead() {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    try {
      int matched = 0;
      while (matched < 4) {
        int b = in.read();
        if (b < 0) {
          throw new IllegalStateException("connection closed after: " + head);
        }
        head.write(b);
        matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  /** Reads {@code length} body bytes. */
  public byte[] readBody(int length) {
    try {
      return in.readNBytes(length);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads one response whose length is given by Content-Length; returns head and body as text. */
  public String readResponse() {
    String head = readHead();
    int length = contentLength(head);
    return head + new String(readBody(length), StandardCharsets.UTF_8);
  }

  public static int status(String head) {
    return Integer.parseInt(head.substring(9, 12));
  }

  public static int contentLength(String head) {
    for (String line : head.split("\r\n")) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equalsIgnoreCase("content-length")) {
        return Integer.parseInt(line.substring(colon + 1).trim());
      }
    }
    return 0;
  }

  /** True when the server closes the connection (EOF or reset) within the socket timeout. */
  public boolean closedByServer() {
    try {
      byte[] buffer = new byte[8192];
      while (true) {
        if (in.read(buffer) < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  /** True when nothing arrives for {@code millis} (the server is waiting, not answering). */
  public boolean silentFor(int millis) {
    try {
      socket.setSoTimeout(millis);
      int b = in.read();
      socket.setSoTimeout(10_000);
      return false;
    } catch (SocketTimeoutException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Vanishes abruptly: a TCP reset instead of an orderly close. */
  public void reset() {
    try {
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // Closing.
    }
  }
}
