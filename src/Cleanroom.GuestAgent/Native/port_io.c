/*
 * The one thing the agent needs that C# cannot say: the x86 `out` instruction. Compiled and linked into the
 * static agent only (see Cleanroom.GuestAgent.csproj); the caller must hold the port through ioperm(2).
 */
#include <sys/io.h>

void cleanroom_outb(unsigned short port, unsigned char value)
{
    outb(value, port);
}
