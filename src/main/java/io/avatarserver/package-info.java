/** The composition: {@code Main} runs the server, {@code AvatarServer} wires storage, database, pipeline, variants and HTTP in one place. */
package io.avatarserver;
