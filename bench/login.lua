-- wrk script: POST /api/login with a JSON body.
wrk.method = "POST"
wrk.body = '{"login":"bench","password":"x"}'
wrk.headers["Content-Type"] = "application/json"
