module authlab.dev/delay-relay

go 1.21
