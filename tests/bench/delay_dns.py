#!/usr/bin/python3
# delay_dns.py ADDR PORT UPSTREAM_ADDR UPSTREAM_PORT DELAY_MS - a DNS
# forwarder for dane.sh that holds every query DELAY_MS before passing
# it to the upstream (an authoritative server "far away"), over UDP and
# TCP.  One process, asyncio: the delay is a timer, so many queries wait
# at once.  Not a benchmark itself.
import asyncio
import socket
import sys


class Udp(asyncio.DatagramProtocol):
    def __init__(self, up, delay):
        self.up, self.delay, self.tr = up, delay, None

    def connection_made(self, transport):
        self.tr = transport

    def datagram_received(self, data, addr):
        asyncio.get_running_loop().create_task(self.relay(data, addr))

    async def relay(self, data, addr):
        await asyncio.sleep(self.delay)
        loop = asyncio.get_running_loop()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setblocking(False)
        try:
            await loop.sock_connect(s, self.up)
            await loop.sock_sendall(s, data)
            reply = await asyncio.wait_for(loop.sock_recv(s, 65535), 5)
            self.tr.sendto(reply, addr)
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            s.close()


async def tcp(reader, writer, up, delay):
    try:
        ur, uw = None, None
        while True:
            hdr = await reader.readexactly(2)
            msg = await reader.readexactly(int.from_bytes(hdr, "big"))
            await asyncio.sleep(delay)
            if uw is None:
                ur, uw = await asyncio.open_connection(*up)
            uw.write(hdr + msg)
            await uw.drain()
            rh = await ur.readexactly(2)
            writer.write(rh + await ur.readexactly(int.from_bytes(rh, "big")))
            await writer.drain()
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    up = (sys.argv[3], int(sys.argv[4]))
    delay = int(sys.argv[5]) / 1000.0
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(lambda: Udp(up, delay), local_addr=(addr, port))
    server = await asyncio.start_server(lambda r, w: tcp(r, w, up, delay), addr, port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
