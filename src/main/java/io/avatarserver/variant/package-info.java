/** Sized variants of an avatar: what to render, the render engines, and what a render may cost. */
package io.avatarserver.variant;
