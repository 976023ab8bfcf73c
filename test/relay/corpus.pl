#!/usr/bin/perl
#
# corpus.pl - run the open-relay corpus (test/relay/corpus.txt) through
# one layer and assert every answer
#
#	corpus.pl query MILTER_RELAY CONF CORPUS SRV IP
#		"milter-relay query" for every form, as the untrusted
#		client 127.0.0.2 and the trusted 127.0.0.1: checks the
#		outcome and the reply code of each class.
#	corpus.pl smtp LAYER CLIENT HOST PORT BIND CORPUS SRV IP OUT
#		one SMTP session to HOST:PORT bound to BIND; for every form
#		MAIL, RCPT, then RSET, or with LAYER "milter" (Postfix with
#		the milter) DATA when taken: a message carrying the header
#		"X-Corpus: LAYER CLIENT ID", and "LAYER CLIENT ID" appended
#		to OUT.  LAYER "pfonly" (Postfix alone) sends DATA only for
#		the untrusted client: from a trusted one it takes what the
#		rules deny (permit_mynetworks), which must not be delivered.
#		CLIENT is "untrusted" or "trusted".
#	corpus.pl sinks TAKEN LOCALS SINKDIR...
#		reads every message dumped by the smtp-sink processes
#		(SINKDIR is NAME=DIR; LOCALS, comma-separated, are Postfix's
#		local domains, delivered to sink L) and checks that each form taken was
#		delivered exactly once, to the sink its rule names, and
#		that nothing else arrived (see sink_for below).
#
# Exit 0 when every expectation holds, 1 otherwise (each failure is
# printed with the corpus line), 2 on usage or I/O errors.

use strict;
use warnings;
use IO::Socket::INET;

my $fail = 0;

sub usage {
	print STDERR "usage: corpus.pl query|smtp|sinks ...\n";
	exit 2;
}

# Parse the corpus: a list of hashes {id, line, u, t, raw, src, over}.
sub corpus_read {
	my ($file, $srv, $ip) = @_;
	my @forms;
	open(my $fh, '<:raw', $file) or die "$file: $!\n";
	while (my $l = <$fh>) {
		chomp $l;
		next if $l =~ /^\s*(#|$)/;
		my @f = split(/ \| /, $l, -1);
		die "$file:$.: expected 4 or 5 fields\n" if @f < 4 || @f > 5;
		my %e = (id => $., u => $f[0], t => $f[1], src => $f[3],
		    over => $f[4] // '');
		for my $c ($e{u}, $e{t}) {
			die "$file:$.: bad class $c\n"
			    unless $c =~ /^(accept|refuse|syntax)$/;
		}
		my $a = $f[2];
		$a =~ s/\@SRV\@/$srv/g;
		$a =~ s/\@IP\@/$ip/g;
		$a =~ s/\\(x([0-9a-fA-F]{2})|.)/
		    defined $2 ? chr(hex $2) :
		    $1 eq 'r' ? "\r" : $1 eq 'n' ? "\n" : $1 eq 't' ? "\t" :
		    "\\$1"/ge;
		$e{raw} = $a;
		push @forms, \%e;
	}
	return @forms;
}

sub override {
	my ($e, $layer) = @_;
	# Postfix alone on milter-relay's static tables (test/fastpath)
	return ($1, $2) if $layer eq 'pfonly' && $ENV{CORPUS_STATIC} &&
	    $e->{over} =~ /\bstatic=(\w+),(\w+)/;
	return () unless $e->{over} =~ /\b$layer=(\w+),(\w+)/;
	return ($1, $2);
}

sub printable {
	my $s = shift;
	$s =~ s/([^\x20-\x7e\x80-\xff])/sprintf("\\x%02x", ord $1)/ge;
	return length($s) > 90 ? substr($s, 0, 87) . '...' : $s;
}

sub bad {
	my ($e, $what) = @_;
	print "FAIL corpus.txt:$e->{id}: " . printable($e->{raw}) .
	    " ($e->{src}): $what\n";
	$fail = 1;
}

# --- query layer ---------------------------------------------------------

# "milter-relay query" prints, for each address, one line
#	ADDRESS: OUTCOME [reply="CODE X.Y.Z text"] rule=... reason="..."
# (options in @opts, e.g. --verify)
sub query_one {
	my ($bin, $conf, $client, $addr, @opts) = @_;
	my $pid = open(my $fh, '-|');
	die "fork: $!\n" unless defined $pid;
	if ($pid == 0) {
		open(STDERR, '>&', \*STDOUT);
		exec($bin, 'query', @opts, '-c', $conf, '-a', $client, $addr) or
		    exit 127;
	}
	local $/;
	my $out = <$fh> // '';
	close($fh);
	return ($? >> 8, $out);
}

sub query_class {
	my ($out) = @_;
	# the echoed address has its blanks and controls escaped (\xHH)
	return '?' unless $out =~ /^\S*: (.*)$/m;
	my $rest = $1;
	return 'accept' if $rest =~ /^(accept|continue) /;
	return 'syntax' if $rest =~ /^reject reply="501 5\.1\.3 /;
	return 'refuse' if $rest =~ /^reject reply="5\d\d 5\.\d{1,3}\.\d{1,3} /;
	return '?';
}

sub run_query {
	my ($bin, $conf, $file, $srv, $ip) = @_;
	my ($n, $skipped) = (0, 0);
	for my $e (corpus_read($file, $srv, $ip)) {
		if ($e->{raw} =~ /\0/) {
			$skipped++;
			next;
		}
		for my $c (['127.0.0.2', $e->{u}, 'untrusted'],
		    ['127.0.0.1', $e->{t}, 'trusted']) {
			my ($st, $out) = query_one($bin, $conf, $c->[0],
			    $e->{raw});
			my $got = query_class($out);
			$n++;
			next if $got eq $c->[1];
			$out =~ s/\s+$//;
			bad($e, "$c->[2]: expected $c->[1], got $got " .
			    "(exit $st): " . printable($out));
		}
	}
	print "query: $n decisions checked, $skipped forms with NUL " .
	    "skipped (argv cannot carry them)\n";
}

# --- SMTP layers ---------------------------------------------------------

sub smtp_reply {
	my ($s) = @_;
	my $all = '';
	while (1) {
		my $l = <$s>;
		return (0, $all . '(connection closed)') unless defined $l;
		$all .= $l;
		return (substr($l, 0, 3), $all) if $l =~ /^\d{3} /;
		return (0, $all) unless $l =~ /^\d{3}-/;
	}
}

sub smtp_cmd {
	my ($s, $cmd) = @_;
	print $s "$cmd\r\n";
	return smtp_reply($s);
}

sub smtp_open {
	my ($host, $port, $bind) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
	    LocalAddr => $bind, Proto => 'tcp', Timeout => 60) or
	    die "connect $host:$port from $bind: $!\n";
	$s->autoflush(1);
	my ($c) = smtp_reply($s);
	die "greeting: $c\n" unless $c == 220;
	($c) = smtp_cmd($s, 'EHLO client.test');
	die "EHLO: $c\n" unless $c == 250;
	return $s;
}

sub expect_smtp {
	my ($e, $layer, $client) = @_;
	my ($ou, $ot) = override($e, $layer eq 'milter' ? 'smtp' : 'pfonly');
	my $want = $client eq 'untrusted' ? ($ou // $e->{u}) : ($ot // $e->{t});
	# Postfix alone knows nothing of trusted-only or deny rules for a
	# trusted client: permit_mynetworks takes every well-formed form.
	if ($layer eq 'pfonly' && $client eq 'trusted' && !defined $ot &&
	    $want eq 'refuse') {
		$want = 'accept';
	}
	# Postfix's own parser is lenient with malformed paths (it drops
	# source routes, spaces, comments, stray dots and brackets) and
	# takes the domain it finds: either answer will do, and what it took
	# from the untrusted client must then arrive where the rules allow.
	if ($layer eq 'pfonly' && $want eq 'syntax' &&
	    !defined($client eq 'untrusted' ? $ou : $ot)) {
		$want = 'any';
	}
	return $want;
}

sub run_smtp {
	my ($layer, $client, $host, $port, $bind, $file, $srv, $ip, $outf) = @_;
	my ($n, $taken, $skipped, $utf8only) = (0, 0, 0, 0);
	open(my $out, '>>', $outf) or die "$outf: $!\n";
	my $s;
	my $per = 0;
	for my $e (corpus_read($file, $srv, $ip)) {
		if ($e->{raw} =~ /\n/) {
			$skipped++;
			next;
		}
		# a fresh session now and then keeps clear of smtpd limits
		if (!$s || $per++ >= 40) {
			smtp_cmd($s, 'QUIT') if $s;
			$s = smtp_open($host, $port, $bind);
			$per = 1;
		}
		# RFC 6531: 8-bit addresses go in an SMTPUTF8 transaction
		my ($c, $r) = smtp_cmd($s, 'MAIL FROM:<sender@client.test>' .
		    ($e->{raw} =~ /[\x80-\xff]/ ? ' SMTPUTF8' : ''));
		die "MAIL: $r" unless $c == 250;
		($c, $r) = smtp_cmd($s, "RCPT TO:$e->{raw}");
		$n++;
		my $want = expect_smtp($e, $layer, $client);
		my $got = $c =~ /^2/ ? 'accept' : $c =~ /^5/ ? 'reject' : "$c";
		my $ok = $want eq 'any' ? 1 :
		    $want eq 'accept' ? $got eq 'accept' : $got eq 'reject';
		$r =~ s/\s+$//;
		bad($e, "$layer $client: expected $want, got " .
		    printable($r)) unless $ok;
		# smtp-sink offers no SMTPUTF8 and RFC 6531 forbids Postfix
		# to downgrade, so 8-bit forms would bounce: their routes are
		# checked through the socketmap by check.sh instead
		my $utf8 = $e->{raw} =~ /[\x80-\xff]/;
		$utf8only++ if $c =~ /^2/ && $utf8;
		if ($c =~ /^2/ && !$utf8 &&
		    ($layer eq 'milter' || $client eq 'untrusted')) {
			($c, $r) = smtp_cmd($s, 'DATA');
			die "DATA: $r" unless $c == 354;
			print $s "X-Corpus: $layer $client $e->{id}\r\n" .
			    "Subject: corpus line $e->{id}\r\n\r\n" .
			    "open-relay corpus\r\n.\r\n";
			($c, $r) = smtp_reply($s);
			die "end of DATA: $r" unless $c == 250;
			print $out "$layer $client $e->{id}\n";
			$taken++;
		} else {
			($c, $r) = smtp_cmd($s, 'RSET');
			if ($c != 250) {
				# Postfix hangs up after some malformed input
				$s = undef;
			}
		}
	}
	smtp_cmd($s, 'QUIT') if $s;
	close($out);
	print "smtp $layer $client: $n RCPT replies checked, $taken messages " .
	    "sent ($utf8only 8-bit forms accepted, not sent), $skipped " .
	    "forms with LF skipped (two commands)\n";
}

# --- sinks ---------------------------------------------------------------

# The sink a delivered recipient must be in, by its domain, under
# relay.conf.in (an oracle written apart from the rule engine), or
# undef when no message may be delivered there at all.
#	A example.com and below, except lab.example.com and below and
#	  gw.example.com itself
#	B exact.example; names below sub.example
#	C partner.example and below (trusted only); xn--bcher-kva.example
#	  and below
#	D anything else (Postfix's relayhost, trusted clients only)
#	L Postfix's local domains (local_transport)
sub sink_for {
	my ($domain, $client, $locals) = @_;
	my $d = $domain;
	# the little of UTS 46 the corpus needs: case, fullwidth forms,
	# the ideographic full stop, and the one U-label of the rules
	utf8::decode($d);
	$d = lc $d;
	$d =~ s/([\x{ff01}-\x{ff5e}])/chr(ord($1) - 0xfee0)/ge;
	$d =~ s/\x{3002}/./g;
	$d =~ s/(^|\.)b\x{fc}cher\.example$/$1xn--bcher-kva.example/;
	$d =~ s/\.$//;
	return 'L' if $locals->{$d};
	return 'V' if $d eq 'box.test';
	return undef if $d =~ /(^|\.)lab\.example\.com$/ || $d eq 'gw.example.com';
	return 'A' if $d =~ /(^|\.)example\.com$/;
	return 'B' if $d eq 'exact.example' || $d =~ /\.sub\.example$/;
	return 'C' if $d =~ /(^|\.)xn--bcher-kva\.example$/;
	return $client eq 'trusted' ? 'C' : undef
	    if $d =~ /(^|\.)partner\.example$/;
	return $client eq 'trusted' ? 'D' : undef;
}

sub run_sinks {
	my ($takenf, $locals, @dirs) = @_;
	my %locals = map { lc($_) => 1 } split(/,/, $locals);
	my %want;
	open(my $t, '<', $takenf) or die "$takenf: $!\n";
	while (<$t>) {
		chomp;
		$want{$_} = 0;
	}
	close($t);
	my $files = 0;
	for my $sd (@dirs) {
		my ($sink, $dir) = split(/=/, $sd, 2);
		for my $f (sort glob("$dir/*")) {
			next unless -f $f;
			$files++;
			open(my $fh, '<:raw', $f) or die "$f: $!\n";
			my ($tag, @rcpt);
			while (my $l = <$fh>) {
				$l =~ s/\r?\n$//;
				push @rcpt, $1 if $l =~ /^X-Rcpt-Args: (.*)/;
				$tag = $1 if $l =~ /^X-Corpus: (.*)/;
				last if $l eq '' && defined $tag;
			}
			close($fh);
			if (!defined $tag) {
				print "FAIL $sink: $f: no X-Corpus header\n";
				$fail = 1;
				next;
			}
			if (!exists $want{$tag}) {
				print "FAIL $sink: $tag delivered but never " .
				    "accepted\n";
				$fail = 1;
				next;
			}
			$want{$tag}++;
			my ($layer, $client) = split(/ /, $tag);
			for my $r (@rcpt) {
				(my $a = $r) =~ s/^<(.*)>.*$/$1/;
				my ($dom) = $a =~ /\@([^@]*)$/;
				$dom //= '';
				my $to = sink_for($dom, $client, \%locals);
				next if defined $to && $to eq $sink;
				print "FAIL $sink: $tag: recipient " .
				    printable($r) . " belongs to " .
				    ($to // 'no sink (must not relay)') . "\n";
				$fail = 1;
			}
		}
	}
	for my $k (sort keys %want) {
		next if $want{$k} == 1;
		print "FAIL $k: delivered $want{$k} times, expected once\n";
		$fail = 1;
	}
	print "sinks: $files messages checked against " .
	    scalar(keys %want) . " accepted\n";
}

# test/parity/parity.pl requires this file for its readers and clients
return 1 if caller;
my $mode = shift @ARGV // usage();
if ($mode eq 'query') {
	usage() unless @ARGV == 5;
	run_query(@ARGV);
} elsif ($mode eq 'smtp') {
	usage() unless @ARGV == 9;
	run_smtp(@ARGV);
} elsif ($mode eq 'sinks') {
	usage() unless @ARGV >= 3;
	run_sinks(@ARGV);
} else {
	usage();
}
exit $fail;
