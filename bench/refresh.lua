-- wrk script: POST /api/refresh, each request with a token never used before.
-- Tokens come from the file named by the first script argument; thread k of
-- n takes lines k, k+n, k+2n, ... so no two threads present the same token.
local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(args[1]) do
    tokens[#tokens + 1] = line
  end
  step = tonumber(args[2]) or 1
  index = id + 1
end

function request()
  local token = tokens[index]
  index = index + step
  if index > #tokens then
    index = id + 1 -- out of fresh tokens: wrap (the server answers 400 reused)
  end
  return wrk.format("POST", "/api/refresh", { ["Authorization"] = "Bearer " .. token }, "")
end
