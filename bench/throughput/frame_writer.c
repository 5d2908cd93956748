/*
 * The guest half of the output path without the agent, for bench.py throughput: reads a pipe on stdin in pieces of
 * up to 256 KiB, as the agent's output pump does, and writes each as a frame (the wire protocol's 9-byte header,
 * then the payload as its own write, as the agent's frame writer does) into a virtio-serial port opened
 * non-blocking, waiting in poll() when the port is full. No flow control: the benchmark's host side reads as fast as
 * it can. Built static by the benchmark and put on a small disk it attaches to the VM.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { CHUNK = 256 * 1024, STDOUT_FRAME = 4 };

static void write_all(int fd, const unsigned char *data, size_t length)
{
    while (length > 0) {
        ssize_t written = write(fd, data, length);
        if (written < 0 && errno == EAGAIN) {
            struct pollfd wait = {.fd = fd, .events = POLLOUT};
            poll(&wait, 1, -1);
            continue;
        }
        if (written < 0 && errno != EINTR) {
            perror("write");
            exit(1);
        }
        if (written > 0) {
            data += written;
            length -= (size_t)written;
        }
    }
}

int main(int argc, char **argv)
{
    static unsigned char buffer[CHUNK];
    if (argc != 2) {
        fprintf(stderr, "usage: frame_writer /dev/vportNpM < pipe\n");
        return 2;
    }
    int port = open(argv[1], O_WRONLY | O_NONBLOCK);
    if (port < 0) {
        perror("open");
        return 1;
    }
    fcntl(0, F_SETPIPE_SZ, 1 << 20);
    for (;;) {
        ssize_t got = read(0, buffer, sizeof buffer);
        if (got == 0)
            return 0;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            perror("read");
            return 1;
        }
        unsigned char header[9] = {(unsigned char)(got >> 24), (unsigned char)(got >> 16), (unsigned char)(got >> 8), (unsigned char)got,
                                   STDOUT_FRAME, 0, 0, 0, 1};
        write_all(port, header, sizeof header);
        write_all(port, buffer, (size_t)got);
    }
}
