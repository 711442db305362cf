/**
 * The HTTP edge: routes, the guards in front of writes, handlers that hand request bodies as streams to the use
 * cases, and the rendering of every refusal as an RFC 9457 problem response.
 */
package io.avatarserver.http;
