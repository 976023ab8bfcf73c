/*
 * sockspec - socket addresses as libmilter writes them
 * (interface in sockspec.c)
 */
#ifndef MR_SOCKSPEC_H
#define MR_SOCKSPEC_H

enum sockspec_kind {
	SOCKSPEC_UNIX,		/* unix:/path, local:/path, /path */
	SOCKSPEC_INET,		/* inet:PORT@HOST */
	SOCKSPEC_INET6		/* inet6:PORT@HOST */
};

#define SOCKSPEC_INET_SYNTAX	"inet:PORT@HOST or inet6:PORT@HOST"
#define SOCKSPEC_SYNTAX		"unix:PATH, " SOCKSPEC_INET_SYNTAX
#define SOCKSPEC_HOST_MAX	255

/* The PORT@HOST of an inet: or inet6: address. */
struct sockspec_inet {
	unsigned	 port;				/* 1-65535 */
	char		 host[SOCKSPEC_HOST_MAX + 1];	/* "": none */
};

int	sockspec_parse(const char *spec, enum sockspec_kind *kind,
	    const char **rest);
int	sockspec_inet(const char *rest, struct sockspec_inet *in,
	    const char **why);
int	sockspec_local(const char *spec);

#endif
