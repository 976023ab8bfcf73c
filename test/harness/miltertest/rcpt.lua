-- rcpt.lua - one milter session driven by OpenDKIM's miltertest(8), an
-- independent MTA-side client used to cross-check milter-test.
--
-- Everything comes from the environment (os.getenv), so the same script
-- serves nullmilter and milter-relay:
--   MILTERTEST_SOCKET   filter socket, e.g. unix:/tmp/x/milter.sock (required)
--   MILTERTEST_CLIENT   client IPv4 address (default 192.0.2.1)
--   MILTERTEST_HELO     client host name (default client.example.net)
--   MILTERTEST_AUTH     {auth_authen} sent with MAIL when set
--   MILTERTEST_FROM     envelope sender (default <sender@example.net>)
--   MILTERTEST_RCPTS    recipients and expected replies, blank-separated
--                       ADDR=REPLY words, REPLY one of continue, accept,
--                       reject, tempfail, discard, replycode (the SMFIR_*
--                       reply; smfi_setreply gives replycode whatever the
--                       code: miltertest cannot see the text of a RCPT
--                       reply)
--   MILTERTEST_RCPT_MACROS  NAME=VALUE words sent before each RCPT
--                       (e.g. "{rcpt_mailer}=smtp {rcpt_host}=[10.1.2.3]")
--   MILTERTEST_EOM      expected end-of-message reply (default continue);
--                       "none" skips end of message and aborts instead
--   MILTERTEST_EOM_HEADER  NAME=VALUE a header the filter must add at EOM
--
-- miltertest itself skips the stages the filter negotiated away and does
-- not wait for replies the filter said it would not send.  Note that after
-- an accept or discard of a RCPT an MTA asks the filter nothing more about
-- the message, and libmilter ignores such events: put those last.
-- Run: miltertest -s rcpt.lua   (exit status 0 = every reply as expected)

local replies = {
	continue = SMFIR_CONTINUE, accept = SMFIR_ACCEPT,
	reject = SMFIR_REJECT, tempfail = SMFIR_TEMPFAIL,
	discard = SMFIR_DISCARD, replycode = SMFIR_REPLYCODE
}

-- miltertest does not print the message of a Lua error: say it first
local function fail(msg)
	mt.echo("FAIL: " .. msg)
	error(msg)
end

local function env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then
		return default
	end
	return v
end

local function want(name)
	local r = replies[name]
	if r == nil then
		fail("unknown reply kind '" .. name .. "'")
	end
	return r
end

local function check(conn, what, expected)
	local got = mt.getreply(conn)
	if got ~= want(expected) then
		fail(string.format("%s: expected %s ('%s'), got '%s'", what,
		    expected, string.char(want(expected)), string.char(got)))
	end
	mt.echo(what .. ": " .. expected)
end

local sock = env("MILTERTEST_SOCKET", nil)
if sock == nil then
	fail("MILTERTEST_SOCKET is not set")
end
mt.set_timeout(10)

local conn = mt.connect(sock, 20, 0.25)
if conn == nil then
	fail("mt.connect(" .. sock .. ") failed")
end
if mt.negotiate(conn, nil, nil, nil) ~= nil then
	fail("mt.negotiate() failed")
end
if mt.conninfo(conn, env("MILTERTEST_HELO", "client.example.net"),
    env("MILTERTEST_CLIENT", "192.0.2.1")) ~= nil then
	fail("mt.conninfo() failed")
end
if mt.getreply(conn) ~= SMFIR_CONTINUE then
	fail("connect: filter did not continue")
end

local auth = env("MILTERTEST_AUTH", nil)
if auth ~= nil then
	mt.macro(conn, SMFIC_MAIL, "{auth_authen}", auth, "{auth_type}", "PLAIN")
end
if mt.mailfrom(conn, env("MILTERTEST_FROM", "<sender@example.net>")) ~= nil then
	fail("mt.mailfrom() failed")
end
check(conn, "MAIL", "continue")

local macros = {}
for name, value in string.gmatch(env("MILTERTEST_RCPT_MACROS", ""),
    "(%S+)=(%S*)") do
	table.insert(macros, name)
	table.insert(macros, value)
end

local n = 0
for addr, reply in string.gmatch(env("MILTERTEST_RCPTS", ""), "(%S+)=(%a+)") do
	if #macros > 0 then
		mt.macro(conn, SMFIC_RCPT, table.unpack(macros))
	end
	if mt.rcptto(conn, addr) ~= nil then
		fail("mt.rcptto(" .. addr .. ") failed")
	end
	check(conn, "RCPT " .. addr, reply)
	n = n + 1
end
if n == 0 then
	fail("MILTERTEST_RCPTS names no recipient")
end

local eom = env("MILTERTEST_EOM", "continue")
if eom == "none" then
	if mt.abort(conn) ~= nil then
		fail("mt.abort() failed")
	end
else
	if mt.eom(conn) ~= nil then
		fail("mt.eom() failed")
	end
	check(conn, "EOM", eom)
	local hdr = env("MILTERTEST_EOM_HEADER", nil)
	if hdr ~= nil then
		local hname, hvalue = string.match(hdr, "^([^=]+)=(.*)$")
		if not mt.eom_check(conn, MT_HDRADD, hname, hvalue) then
			fail("EOM: header " .. hdr .. " was not added")
		end
		mt.echo("EOM: header " .. hdr .. " added")
	end
end
mt.disconnect(conn)
